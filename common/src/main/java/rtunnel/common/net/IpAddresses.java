package rtunnel.common.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Strict parsing and canonical printing of literal IP addresses. Never asks DNS: an option that
 * takes an address must not hang on a resolver or quietly accept a host name.
 */
public final class IpAddresses {
    private IpAddresses() {
    }

    /** A dotted-quad IPv4 address such as {@code 192.0.2.7}; nothing else. */
    public static InetAddress parseIpv4(String text) {
        byte[] b = ipv4Bytes(text);
        if (b == null) {
            throw new IllegalArgumentException("'" + shown(text) + "' is not an IPv4 address (like 192.0.2.7)");
        }
        return byBytes(b);
    }

    /** A literal IPv4 or IPv6 address. An IPv4-mapped IPv6 address comes back as IPv4. */
    public static InetAddress parseLiteral(String text) {
        byte[] b = ipv4Bytes(text);
        if (b == null && text != null && text.indexOf(':') >= 0) {
            b = ipv6Bytes(text);
        }
        if (b == null) {
            throw new IllegalArgumentException("'" + shown(text) + "' is not an IP address (like 192.0.2.7 or 2001:db8::1)");
        }
        return byBytes(b);
    }

    /** Canonical text: dotted quad for IPv4, RFC 5952 compressed lower case for IPv6. */
    public static String format(InetAddress a) {
        if (a instanceof Inet4Address) {
            return a.getHostAddress();
        }
        byte[] b = a.getAddress();
        int[] w = new int[8];
        for (int i = 0; i < 8; i++) {
            w[i] = (b[2 * i] & 0xff) << 8 | b[2 * i + 1] & 0xff;
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && w[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                s.append("::");
                i += bestLen - 1;
                continue;
            }
            if (s.length() > 0 && s.charAt(s.length() - 1) != ':') {
                s.append(':');
            }
            s.append(Integer.toHexString(w[i]));
        }
        return s.toString();
    }

    static byte[] ipv4Bytes(String text) {
        if (text == null || text.isEmpty() || text.length() > 15) {
            return null;
        }
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            String p = parts[i];
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')
                    || p.length() > 1 && p.charAt(0) == '0') {
                return null;
            }
            int v = Integer.parseInt(p);
            if (v > 255) {
                return null;
            }
            b[i] = (byte) v;
        }
        return b;
    }

    static byte[] ipv6Bytes(String text) {
        if (text.length() > 45 || text.indexOf('%') >= 0) {
            return null;
        }
        int dbl = text.indexOf("::");
        if (dbl >= 0 && text.indexOf("::", dbl + 1) >= 0) {
            return null;
        }
        String head = dbl >= 0 ? text.substring(0, dbl) : text;
        String tail = dbl >= 0 ? text.substring(dbl + 2) : "";
        // A dotted quad may only end the address: in "1.2.3.4::" the "::" still follows it.
        byte[] h = groups(head, dbl < 0);
        byte[] t = groups(tail, true);
        if (h == null || t == null) {
            return null;
        }
        if (dbl < 0 ? h.length != 16 : h.length + t.length > 14) {
            return null;
        }
        byte[] b = new byte[16];
        System.arraycopy(h, 0, b, 0, h.length);
        System.arraycopy(t, 0, b, 16 - t.length, t.length);
        return b;
    }

    /** Colon-separated 16-bit groups; the last may be a dotted quad when {@code v4Allowed}. */
    private static byte[] groups(String text, boolean v4Allowed) {
        if (text.isEmpty()) {
            return new byte[0];
        }
        String[] parts = text.split(":", -1);
        byte[] out = new byte[parts.length * 2 + 2];
        int n = 0;
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (i == parts.length - 1 && v4Allowed && p.indexOf('.') >= 0) {
                byte[] v4 = ipv4Bytes(p);
                if (v4 == null) {
                    return null;
                }
                System.arraycopy(v4, 0, out, n, 4);
                n += 4;
                continue;
            }
            // ASCII only: Character.digit and Integer.parseInt also take Arabic-Indic or full-width digits.
            if (p.isEmpty() || p.length() > 4 || !p.chars().allMatch(IpAddresses::isAsciiHex)) {
                return null;
            }
            int v = Integer.parseInt(p, 16);
            out[n++] = (byte) (v >> 8);
            out[n++] = (byte) v;
        }
        return java.util.Arrays.copyOf(out, n);
    }

    private static boolean isAsciiHex(int c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    private static InetAddress byBytes(byte[] b) {
        try {
            // getByAddress never resolves; it also turns a 16-byte IPv4-mapped address into IPv4.
            InetAddress a = InetAddress.getByAddress(b);
            if (a instanceof Inet6Address) {
                return Inet6Address.getByAddress(null, b, null);
            }
            return a;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad address length " + b.length, e);
        }
    }

    /** Text safe to echo in an error line: printable and not absurdly long. */
    static String shown(String text) {
        if (text == null) {
            return "";
        }
        String s = text.length() > 60 ? text.substring(0, 60) + "..." : text;
        StringBuilder out = new StringBuilder();
        s.codePoints().forEach(c -> out.append(c >= 0x20 && c < 0x7f ? Character.toString(c) : "?"));
        return out.toString();
    }
}
