package rtunnel.common.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class IpAddressesTest {
    @ParameterizedTest
    @CsvSource({"192.0.2.7, 192, 0, 2, 7", "0.0.0.0, 0, 0, 0, 0", "255.255.255.255, 255, 255, 255, 255",
            "10.0.0.1, 10, 0, 0, 1", "127.0.0.1, 127, 0, 0, 1", "1.20.100.0, 1, 20, 100, 0"})
    void dottedQuadsParse(String text, int a, int b, int c, int d) {
        InetAddress ip = IpAddresses.parseIpv4(text);
        assertInstanceOf(Inet4Address.class, ip);
        assertArrayEquals(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d}, ip.getAddress());
        assertEquals(text, IpAddresses.format(ip));
        assertEquals(ip, IpAddresses.parseLiteral(text));
    }

    /** Host names must fail at once, never be looked up: "localhost" would resolve if anyone asked DNS. */
    @ParameterizedTest
    @ValueSource(strings = {"01.2.3.4", "1.2.3.04", "1.02.3.4", "00.0.0.0", "1.2.3.256", "256.1.1.1", "1.2.3.999",
            "1.2.3.1000", "1.2.3", "1.2", "1", "16909060", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4.",
            " 1.2.3.4", "1.2.3.4 ", "1. 2.3.4", "1.2.3.4\n", "\t1.2.3.4", "+1.2.3.4", "1.2.3.-4", "0x1.2.3.4",
            "1e2.0.0.1", "1.2.3.4/32", "1.2.3.4:80", "\u0661.2.3.4", "\uff11.2.3.4", "localhost",
            "localhost.localdomain", "example.com", "a.b.c.d", "::1", "::ffff:1.2.3.4", "1.2.3.4%eth0", "1.2.3.4x"})
    @Timeout(5)
    void ipv4IsStrict(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpAddresses.parseIpv4(text));
        assertTrue(e.getMessage().contains("is not an IPv4 address"), e.getMessage());
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\t"), "one printable line: " + e.getMessage());
    }

    @ParameterizedTest
    @NullAndEmptySource
    void nothingIsNotAnAddress(String text) {
        assertThrows(IllegalArgumentException.class, () -> IpAddresses.parseIpv4(text));
        assertThrows(IllegalArgumentException.class, () -> IpAddresses.parseLiteral(text));
    }

    /** input, RFC 5952 text. */
    @ParameterizedTest
    @CsvSource({
        "::, ::",
        "::1, ::1",
        "::0, ::",
        "0:0:0:0:0:0:0:0, ::",
        "0:0:0:0:0:0:0:1, ::1",
        "1::, 1::",
        "2001:db8::1, 2001:db8::1",
        "2001:0db8:0000:0000:0000:0000:0000:0001, 2001:db8::1",
        "2001:DB8::A:B, 2001:db8::a:b",
        "2001:Db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "1:0:0:2:0:0:0:3, 1:0:0:2::3",
        "1:0:0:0:2:0:0:3, 1::2:0:0:3",
        "1:0:0:2:0:0:3:4, 1::2:0:0:3:4",
        "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
        "2001:db8::1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
        "0:1:2:3:4:5:6:7, 0:1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:0, 1:2:3:4:5:6:7:0",
        "1:2:3:4:5:6:7::, 1:2:3:4:5:6:7:0",
        "::2:3:4:5:6:7:8, 0:2:3:4:5:6:7:8",
        "0:0:1:0:0:0:0:0, 0:0:1::",
        "fe80::1, fe80::1",
        "FFFF:ffff:FFFF:ffff:FFFF:ffff:FFFF:ffff, ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "0001:0010:0100:1000::, 1:10:100:1000::",
        "::1.2.3.4, ::102:304",
        "64:ff9b::192.0.2.33, 64:ff9b::c000:221",
        "1:2:3:4:5:6:1.2.3.4, 1:2:3:4:5:6:102:304",
        "::ffff:0:1.2.3.4, ::ffff:0:102:304"})
    void ipv6ParsesAndPrintsPerRfc5952(String text, String canonical) {
        InetAddress ip = IpAddresses.parseLiteral(text);
        assertInstanceOf(Inet6Address.class, ip);
        assertEquals(canonical, IpAddresses.format(ip));
        assertEquals(ip, IpAddresses.parseLiteral(canonical), "the canonical form parses back to the same address");
        assertEquals(canonical, IpAddresses.format(IpAddresses.parseLiteral(canonical)));
    }

    /** IPv4-mapped IPv6 addresses are the IPv4 address: a dual-stack socket reports peers that way. */
    @ParameterizedTest
    @CsvSource({"::ffff:1.2.3.4, 1.2.3.4", "::FFFF:192.0.2.1, 192.0.2.1", "::ffff:c000:201, 192.0.2.1",
            "0:0:0:0:0:ffff:0a00:0001, 10.0.0.1", "0:0:0:0:0:ffff:10.0.0.1, 10.0.0.1"})
    void mappedIpv4ComesBackAsIpv4(String text, String v4) {
        InetAddress ip = IpAddresses.parseLiteral(text);
        assertInstanceOf(Inet4Address.class, ip);
        assertEquals(v4, IpAddresses.format(ip));
        assertEquals(IpAddresses.parseIpv4(v4), ip);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1:::2", "12345::", ":::", "::::", "1::2::3", "::1::", ":1::", "1::2:", ":", "1:",
            ":1", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
            "1::2:3:4:5:6:7:8", "g::1", "::g", "fe80::1%eth0", "fe80::1%1", "[::1]", "[::1]:22", "::1/128",
            " ::1", "::1 ", ":: 1", "::1\n", "::-1", "-1::", "+1::", "0x1::", "::0x1", "1.2.3.4::", "1.2.3.4::1",
            "::1.2.3.4:5", "::1.2.3", "::1.2.3.256", "::01.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5:1.2.3.4",
            "::ffff:1.2.3.4.5", "::ffff:1.2.3.4:", "\u0661::1", "::\u0661", "::\uff11", "ab\u0663::",
            "1:2:3:4:5:6:7:8:", ":1:2:3:4:5:6:7:8", "localhost", "ip6-localhost",
            "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff:1", "000001::", "::00001"})
    @Timeout(5)
    void badIpv6IsRejected(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpAddresses.parseLiteral(text),
                () -> "accepted '" + text + "'");
        assertTrue(e.getMessage().contains("is not an IP address"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void errorMessagesEchoTheInputSafely() {
        String longJunk = "x".repeat(5000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpAddresses.parseLiteral(longJunk));
        assertTrue(e.getMessage().length() < 200, "long input is cut: " + e.getMessage().length());
        e = assertThrows(IllegalArgumentException.class, () -> IpAddresses.parseIpv4("1.2.3.4\n\u001b[31mred"));
        assertEquals("'1.2.3.4??[31mred' is not an IPv4 address (like 192.0.2.7)", e.getMessage());
    }

    @Test
    void formatNeverPrintsAHostName() throws Exception {
        InetAddress named = InetAddress.getByAddress("some.host.example", new byte[] {(byte) 192, 0, 2, 1});
        assertEquals("192.0.2.1", IpAddresses.format(named));
        InetAddress named6 = InetAddress.getByAddress("v6.example", IpAddresses.parseLiteral("2001:db8::1").getAddress());
        assertEquals("2001:db8::1", IpAddresses.format(named6));
        // A scoped address prints without its scope: allowlists compare addresses, not interfaces.
        InetAddress scoped = Inet6Address.getByAddress(null, IpAddresses.parseLiteral("fe80::1").getAddress(), 3);
        assertEquals("fe80::1", IpAddresses.format(scoped));
    }

    @Test
    void formatAgreesWithTheJdkOnEveryZeroPattern() throws Exception {
        // All 256 patterns of zero/non-zero groups: the compressed text must name the same address.
        for (int mask = 0; mask < 256; mask++) {
            byte[] b = new byte[16];
            for (int g = 0; g < 8; g++) {
                if ((mask & 1 << g) != 0) {
                    b[2 * g] = (byte) 0xab;
                    b[2 * g + 1] = (byte) g;
                }
            }
            InetAddress a = Inet6Address.getByAddress(null, b, null);
            if (a instanceof Inet4Address) {
                continue;
            }
            String text = IpAddresses.format(a);
            assertArrayEquals(b, InetAddress.getByName(text).getAddress(), text);
            assertArrayEquals(b, IpAddresses.parseLiteral(text).getAddress(), text);
            assertTrue(text.indexOf("::") == text.lastIndexOf("::"), text);
            int dbl = text.indexOf("::");
            String before = dbl < 0 ? text : text.substring(0, dbl);
            String after = dbl < 0 ? "" : text.substring(dbl + 2);
            int compressed = dbl < 0 ? 0 : 8 - groups(before).length - groups(after).length;
            assertTrue(dbl < 0 || compressed >= 2, "a single zero group is not compressed: " + text);
            assertTrue(longestZeroRun(groups(before)) < Math.max(2, compressed),
                    "the first longest run of zeros is the one compressed: " + text);
            assertTrue(longestZeroRun(groups(after)) <= Math.max(1, compressed),
                    "no longer run of zeros is left after '::': " + text);
        }
    }

    private static String[] groups(String part) {
        return part.isEmpty() ? new String[0] : part.split(":");
    }

    private static int longestZeroRun(String[] groups) {
        int best = 0;
        int run = 0;
        for (String g : groups) {
            run = g.equals("0") ? run + 1 : 0;
            best = Math.max(best, run);
        }
        return best;
    }
}
