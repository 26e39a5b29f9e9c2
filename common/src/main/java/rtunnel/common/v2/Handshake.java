package rtunnel.common.v2;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import rtunnel.common.protocol.Printable;

/** The v2 handshake messages on stream 0 (docs/PROTOCOL.md, "Authentication"). */
public final class Handshake {
    public static final int NONCE = 32;
    public static final int MAC = 32;
    public static final int MAX_HOSTNAME = 64;
    /** HELLO flag: take over a live tunnel with the same hostname (rotation, restart). */
    public static final int TAKEOVER = 1;

    private Handshake() {
    }

    /** Fixed to dynamic, right after TLS. */
    public record Challenge(byte[] nonce) {
        public byte[] encode() {
            return nonce.clone();
        }

        public static Challenge decode(byte[] p) throws ProtocolException {
            if (p.length != NONCE) {
                throw new ProtocolException("CHALLENGE of " + p.length + " bytes");
            }
            return new Challenge(p);
        }
    }

    /** Dynamic to fixed: who it is and the proof that it knows the password. */
    public record Hello(byte[] nonce, byte[] mac, int requestedPort, int flags, String hostname) {
        public byte[] encode() {
            byte[] name = hostname.getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(NONCE + MAC + 4 + name.length).put(nonce).put(mac)
                    .putShort((short) requestedPort).put((byte) flags).put((byte) name.length).put(name).array();
        }

        public static Hello decode(byte[] p) throws ProtocolException {
            try {
                ByteBuffer b = ByteBuffer.wrap(p);
                byte[] nonce = take(b, NONCE);
                byte[] mac = take(b, MAC);
                int port = b.getShort() & 0xffff;
                int flags = b.get() & 0xff;
                int len = b.get() & 0xff;
                if (len == 0 || len > MAX_HOSTNAME || b.remaining() != len) {
                    throw new ProtocolException("HELLO with a bad hostname length");
                }
                String name = new String(take(b, len), StandardCharsets.UTF_8);
                return new Hello(nonce, mac, port, flags, name);
            } catch (BufferUnderflowException e) {
                throw new ProtocolException("HELLO too short");
            }
        }
    }

    /** Fixed to dynamic: the tunnel is up. */
    public record Welcome(long tunnelId, int port, int pingIntervalSeconds, int pingTimeoutSeconds, byte[] mac) {
        public byte[] encode() {
            return ByteBuffer.allocate(8 + 2 + 2 + 2 + MAC).putLong(tunnelId).putShort((short) port)
                    .putShort((short) pingIntervalSeconds).putShort((short) pingTimeoutSeconds).put(mac).array();
        }

        public static Welcome decode(byte[] p) throws ProtocolException {
            if (p.length != 14 + MAC) {
                throw new ProtocolException("WELCOME of " + p.length + " bytes");
            }
            ByteBuffer b = ByteBuffer.wrap(p);
            return new Welcome(b.getLong(), b.getShort() & 0xffff, b.getShort() & 0xffff, b.getShort() & 0xffff,
                    take(b, MAC));
        }
    }

    /** Fixed to dynamic: no tunnel, and why. */
    public record Refuse(Reason reason, String text) {
        public byte[] encode() {
            byte[] t = text.getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(1 + Math.min(t.length, 1000)).put((byte) reason.code)
                    .put(t, 0, Math.min(t.length, 1000)).array();
        }

        public static Refuse decode(byte[] p) throws ProtocolException {
            if (p.length < 1) {
                throw new ProtocolException("empty REFUSE");
            }
            return new Refuse(Reason.of(p[0]), Printable.text(new String(p, 1, p.length - 1, StandardCharsets.UTF_8)));
        }
    }

    private static byte[] take(ByteBuffer b, int n) {
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }
}
