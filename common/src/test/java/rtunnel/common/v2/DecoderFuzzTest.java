package rtunnel.common.v2;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import rtunnel.common.fuzz.Fuzz;
import rtunnel.common.protocol.V1;

/**
 * The v1 and v2 handshake decoders under random and mutated input: they either decode or throw
 * ProtocolException (or end of stream), never anything else, never an over-long frame.
 */
class DecoderFuzzTest {
    private static List<byte[]> seeds() {
        byte[] n = new byte[Handshake.NONCE];
        byte[] m = new byte[Handshake.MAC];
        return List.of(
                FrameIO.encode(FrameType.CHALLENGE, 0, new Handshake.Challenge(n).encode()),
                FrameIO.encode(FrameType.HELLO, 0, new Handshake.Hello(n, m, 40000, Handshake.TAKEOVER, "cam1").encode()),
                FrameIO.encode(FrameType.WELCOME, 0, new Handshake.Welcome(7, 40000, 20, 60, m).encode()),
                FrameIO.encode(FrameType.REFUSE, 0, new Handshake.Refuse(Reason.BAD_PASSWORD, "x").encode()),
                FrameIO.encode(FrameType.OPEN, 3, new OpenInfo(new InetSocketAddress("127.0.0.3", 5555),
                        new InetSocketAddress("::1", 40000)).encode()),
                FrameIO.encode(FrameType.DATA, 3, "hello".getBytes()),
                FrameIO.encode(FrameType.WINDOW, 3, new byte[] {0, 1, 0, 0}));
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void framesAndHandshakeMessagesDecodeOrFailCleanly() {
        Random r = Fuzz.random();
        List<byte[]> seeds = seeds();
        for (int i = 0; i < Fuzz.ITERATIONS; i++) {
            byte[] input = r.nextInt(4) == 0 ? Fuzz.bytes(r, r.nextInt(64))
                    : Fuzz.mutate(r, seeds.get(r.nextInt(seeds.size())));
            try {
                ByteArrayInputStream in = new ByteArrayInputStream(input);
                for (int frames = 0; frames < 64; frames++) {
                    Frame f = FrameIO.read(in);
                    if (f == null) {
                        break;
                    }
                    assertTrue(f.payload().length <= FrameIO.MAX_PAYLOAD, Fuzz.where(i));
                    decodePayload(f);
                }
            } catch (ProtocolException | EOFException e) {
                // A clean refusal of bad input.
            } catch (IOException | RuntimeException e) {
                fail("decoder threw " + e + " at " + Fuzz.where(i), e);
            }
        }
    }

    private static void decodePayload(Frame f) throws ProtocolException {
        switch (f.type()) {
            case CHALLENGE -> Handshake.Challenge.decode(f.payload());
            case HELLO -> {
                Handshake.Hello h = Handshake.Hello.decode(f.payload());
                assertTrue(h.hostname().length() <= Handshake.MAX_HOSTNAME);
            }
            case WELCOME -> Handshake.Welcome.decode(f.payload());
            case REFUSE -> Handshake.Refuse.decode(f.payload());
            case OPEN -> OpenInfo.decode(f.payload());
            default -> {
                // DATA, WINDOW, FIN...: no payload structure to decode here.
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void v1HostnameBlocksAlwaysGivePrintableNames() {
        Random r = Fuzz.random();
        for (int i = 0; i < Fuzz.ITERATIONS; i++) {
            byte[] block = Fuzz.bytes(r, V1.AUTH_LENGTH);
            String name = V1.hostnameOf(block);
            assertTrue(name.length() <= V1.HOSTNAME_LENGTH, Fuzz.where(i));
            assertTrue(name.chars().allMatch(c -> c > 0x20 && c != 0x7f), "unprintable name at " + Fuzz.where(i));
        }
    }
}
