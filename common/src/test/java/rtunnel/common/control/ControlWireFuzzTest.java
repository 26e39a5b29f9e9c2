package rtunnel.common.control;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import rtunnel.common.fuzz.Fuzz;
import rtunnel.common.net.AddressRange;

/** The control socket's request parser and the address parser under random and mutated input. */
class ControlWireFuzzTest {
    private static final String[] SEEDS = {
        "list-tunnels\t0\t", "addip-client\t1\t192.0.2.0/24", "addip-tunnel\t0\t2001:db8::1\t7200",
        "kill-tunnel\t0\t12", "approve\t0\tSHA256:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg",
    };

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void requestLinesParseOrFailCleanly() {
        Random r = Fuzz.random();
        for (int i = 0; i < Fuzz.ITERATIONS; i++) {
            byte[] seed = SEEDS[r.nextInt(SEEDS.length)].getBytes(StandardCharsets.UTF_8);
            byte[] input = r.nextInt(4) == 0 ? Fuzz.bytes(r, r.nextInt(80)) : Fuzz.mutate(r, seed);
            ByteArrayInputStream in = new ByteArrayInputStream(appendNewline(input));
            try {
                for (int lines = 0; lines < 16; lines++) {
                    String line = ControlWire.readLine(in);
                    if (line == null) {
                        break;
                    }
                    assertTrue(line.length() <= ControlWire.MAX_LINE, Fuzz.where(i));
                    try {
                        ControlRequest req = ControlWire.decode(line);
                        assertTrue(req.command() != null, Fuzz.where(i));
                    } catch (IllegalArgumentException e) {
                        // A refused request.
                    }
                }
            } catch (IOException e) {
                // Binary or over-long lines end the connection with an error line.
            } catch (RuntimeException e) {
                fail("parser threw " + e + " at " + Fuzz.where(i), e);
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void addressRangesParseOrFailCleanly() {
        Random r = Fuzz.random();
        String[] seeds = {"192.0.2.7", "10.0.0.0/8", "2001:db8::/32", "::ffff:192.0.2.1", "::1"};
        for (int i = 0; i < Fuzz.ITERATIONS; i++) {
            byte[] input = Fuzz.mutate(r, seeds[r.nextInt(seeds.length)].getBytes(StandardCharsets.ISO_8859_1));
            String text = new String(input, StandardCharsets.ISO_8859_1);
            try {
                AddressRange a = AddressRange.parse(text);
                assertTrue(AddressRange.parse(a.toString()).equals(a), "canonical form does not parse back at " + Fuzz.where(i));
            } catch (IllegalArgumentException e) {
                // A refused address.
            } catch (RuntimeException e) {
                fail("parser threw " + e + " for '" + text + "' at " + Fuzz.where(i), e);
            }
        }
    }

    private static byte[] appendNewline(byte[] b) {
        byte[] c = java.util.Arrays.copyOf(b, b.length + 1);
        c[b.length] = '\n';
        return c;
    }
}
