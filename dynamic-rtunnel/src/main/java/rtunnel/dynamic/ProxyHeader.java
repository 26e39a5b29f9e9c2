package rtunnel.dynamic;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import rtunnel.common.net.IpAddresses;

/**
 * The PROXY protocol header (HAProxy's spec, versions 1 and 2) that tells the local service who
 * the real client is. Mixed address families are sent as IPv6 with the IPv4 address mapped.
 */
final class ProxyHeader {
    private static final byte[] V2_SIGNATURE = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

    private ProxyHeader() {
    }

    /** @param client the client's address; @param server the address it connected to on the fixed side */
    static byte[] encode(int version, InetSocketAddress client, InetSocketAddress server) {
        boolean v4 = client.getAddress() instanceof Inet4Address && server.getAddress() instanceof Inet4Address;
        byte[] src = bytes(client.getAddress(), v4);
        byte[] dst = bytes(server.getAddress(), v4);
        if (version == 1) {
            String line = "PROXY " + (v4 ? "TCP4 " : "TCP6 ") + text(src) + " " + text(dst) + " "
                    + client.getPort() + " " + server.getPort() + "\r\n";
            return line.getBytes(StandardCharsets.US_ASCII);
        }
        int len = 2 * src.length + 4;
        return ByteBuffer.allocate(V2_SIGNATURE.length + 4 + len).put(V2_SIGNATURE)
                .put((byte) 0x21) // version 2, PROXY command
                .put((byte) (v4 ? 0x11 : 0x21)) // TCP over IPv4 or IPv6
                .putShort((short) len).put(src).put(dst)
                .putShort((short) client.getPort()).putShort((short) server.getPort()).array();
    }

    private static byte[] bytes(InetAddress a, boolean v4) {
        byte[] b = a.getAddress();
        if (v4 || b.length == 16) {
            return b;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(b, 0, mapped, 12, 4);
        return mapped;
    }

    private static String text(byte[] b) {
        try {
            if (b.length == 16 && isMapped(b)) {
                return "::ffff:" + IpAddresses.format(InetAddress.getByAddress(java.util.Arrays.copyOfRange(b, 12, 16)));
            }
            return IpAddresses.format(InetAddress.getByAddress(b));
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isMapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }
}
