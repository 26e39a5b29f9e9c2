package rtunnel.common.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

import rtunnel.common.cli.RtunnelException;

class V1Test {
    @Test
    void defaultPasswordIsTheOriginalsAsciiBytes() {
        byte[] block = V1.authBlock(Password.DEFAULT, "cam");
        assertArrayEquals("PaSsWoRd".getBytes(StandardCharsets.US_ASCII), java.util.Arrays.copyOf(block, 8));
    }

    @Test
    void hexPasswordIsHighNibbleFirstAndHostnameNulPadded() throws RtunnelException {
        byte[] block = V1.authBlock(Password.parseHex16("--password", "0123456789abcdef"), "pi");
        assertArrayEquals(HexFormat.of().parseHex("0123456789abcdef" + "7069000000000000"), block);
        assertEquals("pi", V1.hostnameOf(block));
    }

    @Test
    void hostnameIsTruncatedToEightBytes() {
        byte[] block = V1.authBlock(Password.DEFAULT, "computercenter");
        assertEquals(16, block.length);
        assertEquals("computer", V1.hostnameOf(block));
    }

    @Test
    void hostnameFromPeerIsMadePrintable() {
        byte[] block = new byte[16];
        block[8] = 'a';
        block[9] = '\n';
        block[10] = 0x1b;
        block[11] = 'b';
        assertEquals("a??b", V1.hostnameOf(block));
    }

    @Test
    void passwordComparisonChecksAllEightBytes() throws RtunnelException {
        Password p = Password.parseHex16("--password", "00112233445566ff");
        byte[] good = V1.authBlock(p, "x");
        assertTrue(p.matchesV1(good));
        byte[] bad = good.clone();
        bad[7] ^= 1;
        assertFalse(p.matchesV1(bad));
        assertFalse(Password.DEFAULT.matchesV1(good));
    }

    @Test
    void badPasswordsAreUsageErrorsThatNeverEchoTheValue() {
        for (String bad : new String[] {"", "0123", "0123456789abcdef0", "0123456789abcdeg", "zzzzzzzzzzzzzzzz"}) {
            RtunnelException e = assertThrows(RtunnelException.class, () -> Password.parseHex16("--password", bad));
            assertEquals(RtunnelException.USAGE, e.exitCode());
            assertTrue(e.getMessage().startsWith("--password"), e.getMessage());
            if (!bad.isEmpty()) {
                assertFalse(e.getMessage().contains(bad), e.getMessage());
            }
        }
    }

    @Test
    void passwordPrintsMasked() throws RtunnelException {
        Password p = Password.parseHex16("--password", "0123456789abcdef");
        assertFalse(p.toString().contains("0123"));
    }
}
