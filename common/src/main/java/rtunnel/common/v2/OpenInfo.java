package rtunnel.common.v2;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * The OPEN payload: the client's address and the address it connected to on the fixed side,
 * which the dynamic side needs for a PROXY protocol header and for its log.
 */
public record OpenInfo(InetSocketAddress client, InetSocketAddress server) {
    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(2 * (1 + 16 + 2));
        put(b, client);
        put(b, server);
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    public static OpenInfo decode(byte[] p) throws ProtocolException {
        try {
            ByteBuffer b = ByteBuffer.wrap(p);
            OpenInfo info = new OpenInfo(get(b), get(b));
            if (b.hasRemaining()) {
                throw new ProtocolException("OPEN too long");
            }
            return info;
        } catch (BufferUnderflowException e) {
            throw new ProtocolException("OPEN too short");
        }
    }

    private static void put(ByteBuffer b, InetSocketAddress a) {
        byte[] addr = a.getAddress().getAddress();
        b.put((byte) (addr.length == 4 ? 4 : 6)).put(addr).putShort((short) a.getPort());
    }

    private static InetSocketAddress get(ByteBuffer b) throws ProtocolException {
        int family = b.get();
        if (family != 4 && family != 6) {
            throw new ProtocolException("OPEN with address family " + family);
        }
        byte[] addr = new byte[family == 4 ? 4 : 16];
        b.get(addr);
        int port = b.getShort() & 0xffff;
        try {
            return new InetSocketAddress(InetAddress.getByAddress(addr), port);
        } catch (UnknownHostException e) {
            throw new ProtocolException("OPEN with a bad address");
        }
    }
}
