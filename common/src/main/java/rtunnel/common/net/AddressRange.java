package rtunnel.common.net;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * One allowlist entry: a single address or a CIDR block, IPv4 or IPv6. Kept in canonical form
 * (host bits cleared, address printed canonically) so that equal ranges print and compare equal.
 */
public final class AddressRange {
    private final byte[] network;
    private final int prefix;

    private AddressRange(byte[] network, int prefix) {
        this.network = network;
        this.prefix = prefix;
    }

    /** {@code 192.0.2.7}, {@code 192.0.2.0/24}, {@code 2001:db8::1}, {@code 2001:db8::/32}. */
    public static AddressRange parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("an address is needed (like 192.0.2.7, 192.0.2.0/24 or 2001:db8::1)");
        }
        int slash = text.indexOf('/');
        String addr = slash < 0 ? text : text.substring(0, slash);
        InetAddress a;
        try {
            a = IpAddresses.parseLiteral(addr);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + IpAddresses.shown(text)
                    + "' is not an address or CIDR range (like 192.0.2.7, 192.0.2.0/24 or 2001:db8::1)");
        }
        byte[] b = a.getAddress();
        // ::ffff:192.0.2.0/120 is 192.0.2.0/24: a mapped address comes back as IPv4, so its prefix
        // counts the 96 bits of the ::ffff: part as well.
        int skip = b.length == 4 && addr.indexOf(':') >= 0 ? 96 : 0;
        int max = skip + b.length * 8;
        int prefix = b.length * 8;
        if (slash >= 0) {
            String p = text.substring(slash + 1);
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Integer.parseInt(p) > max || Integer.parseInt(p) < skip) {
                throw new IllegalArgumentException("'" + IpAddresses.shown(text) + "' has a bad prefix length ("
                        + skip + " to " + max + ")");
            }
            prefix = Integer.parseInt(p) - skip;
        }
        return new AddressRange(mask(b, prefix), prefix);
    }

    public static AddressRange of(InetAddress a) {
        byte[] b = a.getAddress();
        return new AddressRange(b, b.length * 8);
    }

    public boolean contains(InetAddress a) {
        byte[] b = a.getAddress();
        return b.length == network.length && Arrays.equals(mask(b, prefix), network);
    }

    private static byte[] mask(byte[] b, int prefix) {
        byte[] m = b.clone();
        for (int i = 0; i < m.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            m[i] &= (byte) (0xff << (8 - keep));
        }
        return m;
    }

    public boolean isSingleAddress() {
        return prefix == network.length * 8;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AddressRange r && r.prefix == prefix && Arrays.equals(r.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefix;
    }

    /** The address alone for a single address (the original's form), else address/prefix. */
    @Override
    public String toString() {
        try {
            String a = IpAddresses.format(InetAddress.getByAddress(network));
            return isSingleAddress() ? a : a + "/" + prefix;
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
