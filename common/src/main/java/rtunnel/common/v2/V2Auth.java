package rtunnel.common.v2;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.Certificate;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The v2 challenge-response (docs/PROTOCOL.md): HMAC-SHA256 keyed by the password over both
 * nonces and the server certificate's hash, so the password never crosses the wire and a
 * response made for one server is useless against another.
 */
public final class V2Auth {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] CLIENT_LABEL = "rtunnel v2 client".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_LABEL = "rtunnel v2 server".getBytes(StandardCharsets.US_ASCII);

    private V2Auth() {
    }

    public static byte[] nonce() {
        byte[] n = new byte[Handshake.NONCE];
        RANDOM.nextBytes(n);
        return n;
    }

    /** tls-server-end-point: SHA-256 over the server certificate's DER encoding. */
    public static byte[] channelBinding(Certificate serverCert) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(serverCert.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    public static byte[] clientMac(byte[] key, byte[] binding, byte[] serverNonce, byte[] clientNonce,
            int requestedPort, int flags, String hostname) {
        byte[] name = hostname.getBytes(StandardCharsets.UTF_8);
        return hmac(key, ByteBuffer.allocate(CLIENT_LABEL.length + binding.length + 2 * Handshake.NONCE + 3 + name.length)
                .put(CLIENT_LABEL).put(binding).put(serverNonce).put(clientNonce)
                .putShort((short) requestedPort).put((byte) flags).put(name).array());
    }

    public static byte[] serverMac(byte[] key, byte[] binding, byte[] serverNonce, byte[] clientNonce,
            long tunnelId, int port) {
        return hmac(key, ByteBuffer.allocate(SERVER_LABEL.length + binding.length + 2 * Handshake.NONCE + 10)
                .put(SERVER_LABEL).put(binding).put(serverNonce).put(clientNonce)
                .putLong(tunnelId).putShort((short) port).array());
    }

    /** Constant-time comparison. */
    public static boolean equal(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
