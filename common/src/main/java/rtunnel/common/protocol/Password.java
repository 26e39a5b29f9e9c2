package rtunnel.common.protocol;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

import rtunnel.common.cli.RtunnelException;

/**
 * The shared secret. Its printed form is masked, so it cannot leak through a log line or an
 * exception message; compare with {@link #matchesV1(byte[])}, which runs in constant time.
 */
public final class Password {
    /** The original's default when no --password is given: the 8 ASCII bytes "PaSsWoRd". */
    public static final Password DEFAULT = new Password("PaSsWoRd".getBytes(StandardCharsets.US_ASCII));

    private final byte[] bytes;

    private Password(byte[] bytes) {
        this.bytes = bytes.clone();
    }

    /**
     * Parses the v1 form: exactly 16 hex digits = 8 bytes, high nibble first.
     * The message names the option and never echoes the value.
     */
    public static Password parseHex16(String option, String hex) throws RtunnelException {
        if (hex == null || hex.length() != 16) {
            throw RtunnelException.usage(option + " must be exactly 16 hex digits (got "
                    + (hex == null ? 0 : hex.length()) + " characters)");
        }
        for (int i = 0; i < hex.length(); i++) {
            if (Character.digit(hex.charAt(i), 16) < 0) {
                throw RtunnelException.usage(option + " must be hex digits 0-9 a-f only (character "
                        + (i + 1) + " is not)");
            }
        }
        return new Password(HexFormat.of().parseHex(hex));
    }

    /**
     * Parses a v2 password: 16 to 64 hex digits, an even count (8 to 32 bytes). A v1 peer can
     * only use a 16-digit one.
     */
    public static Password parseHex(String option, String hex) throws RtunnelException {
        if (hex == null || hex.length() < 16 || hex.length() > 64 || hex.length() % 2 != 0) {
            throw RtunnelException.usage(option + " must be an even number of hex digits from 16 to 64 (got "
                    + (hex == null ? 0 : hex.length()) + " characters)");
        }
        for (int i = 0; i < hex.length(); i++) {
            if (Character.digit(hex.charAt(i), 16) < 0) {
                throw RtunnelException.usage(option + " must be hex digits 0-9 a-f only (character "
                        + (i + 1) + " is not)");
            }
        }
        return new Password(HexFormat.of().parseHex(hex));
    }

    /** True when the password fits protocol v1's 8 bytes. */
    public boolean fitsV1() {
        return bytes.length == V1.PASSWORD_LENGTH;
    }

    /** The whole secret, as the v2 HMAC key. The caller should wipe the copy. */
    public byte[] secretBytes() {
        return bytes.clone();
    }

    /** The 8 bytes sent in a v1 authentication block. The caller should wipe the copy. */
    public byte[] v1Bytes() {
        return Arrays.copyOf(bytes, V1.PASSWORD_LENGTH);
    }

    /** Constant-time comparison with the first 8 bytes of a received v1 authentication block. */
    public boolean matchesV1(byte[] authBlock) {
        if (!fitsV1()) {
            return false;
        }
        byte[] got = Arrays.copyOf(authBlock, V1.PASSWORD_LENGTH);
        try {
            return MessageDigest.isEqual(v1Bytes(), got);
        } finally {
            Arrays.fill(got, (byte) 0);
        }
    }

    @Override
    public String toString() {
        return "Password[****]";
    }
}
