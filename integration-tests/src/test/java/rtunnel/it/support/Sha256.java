package rtunnel.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/** Hashes to compare what went into a tunnel with what came out, and reproducible test data. */
public final class Sha256 {

    /** Fixed seed so a failing transfer can be replayed byte for byte. */
    public static final long SEED = 20231116L;

    private Sha256() {
    }

    /** Lower-case hex SHA-256, the form {@code sha256sum} prints. */
    public static String hex(byte[] data) {
        return HexFormat.of().formatHex(digest().digest(data));
    }

    /** Hex SHA-256 of everything left in {@code in} (the stream is read to its end, not closed). */
    public static String hex(InputStream in) throws IOException {
        MessageDigest md = digest();
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) >= 0; ) {
            md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** {@code n} pseudo-random bytes from {@link #SEED}. */
    public static byte[] randomBytes(int n) {
        return randomBytes(n, SEED);
    }

    /** {@code n} pseudo-random bytes from {@code seed}. */
    public static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
