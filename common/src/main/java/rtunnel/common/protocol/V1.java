package rtunnel.common.protocol;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Wire protocol v1, the original C program's (SPEC A3). Every message is 8 ASCII bytes;
 * the authentication block is 8 password bytes then 8 hostname bytes, NUL padded.
 */
public final class V1 {
    /** Sent in clear by the dynamic side, echoed in clear by the fixed side, before TLS starts. */
    public static final byte[] MAGIC = ascii("TUNNEL01");
    /** Fixed to dynamic, inside TLS, after each idle period while no client has come. */
    public static final byte[] KEEPALIVE = ascii("00000001");
    /** Fixed to dynamic, inside TLS: a client was admitted, connect to the local service. */
    public static final byte[] START = ascii("00000002");
    public static final int MESSAGE_LENGTH = 8;
    public static final int PASSWORD_LENGTH = 8;
    public static final int HOSTNAME_LENGTH = 8;
    public static final int AUTH_LENGTH = PASSWORD_LENGTH + HOSTNAME_LENGTH;

    /** How long the fixed side waits for the clear magic and for the authentication block. */
    public static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /** The fixed side sends a keepalive after this much silence while waiting for a client. */
    public static final Duration KEEPALIVE_INTERVAL = Duration.ofMinutes(10);
    /** The dynamic side gives up on a link that has said nothing for this long. */
    public static final Duration SILENCE_LIMIT = Duration.ofMinutes(20);

    private V1() {
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** The 16-byte authentication block: password, then hostname truncated to 8 bytes and NUL padded. */
    public static byte[] authBlock(Password password, String hostname) {
        byte[] block = new byte[AUTH_LENGTH];
        byte[] secret = password.v1Bytes();
        System.arraycopy(secret, 0, block, 0, PASSWORD_LENGTH);
        java.util.Arrays.fill(secret, (byte) 0);
        byte[] name = hostname.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(name, 0, block, PASSWORD_LENGTH, Math.min(name.length, HOSTNAME_LENGTH));
        return block;
    }

    /** The hostname part of an authentication block, up to the first NUL, as printable text. */
    public static String hostnameOf(byte[] block) {
        int end = PASSWORD_LENGTH;
        while (end < AUTH_LENGTH && block[end] != 0) {
            end++;
        }
        return Printable.of(new String(block, PASSWORD_LENGTH, end - PASSWORD_LENGTH, StandardCharsets.UTF_8));
    }
}
