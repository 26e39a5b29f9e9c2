package rtunnel.fixed.server;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/**
 * --ssh-only: a client session is forwarded only when its first bytes are an SSH identification
 * line ({@code SSH-}, RFC 4253 4.2), which every ssh client sends at once. Port scanners and
 * stray HTTP requests are turned away at the fixed side and never reach the remote machine.
 */
final class SshGate {
    static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final byte[] SSH = "SSH-".getBytes(StandardCharsets.US_ASCII);

    private SshGate() {
    }

    /** The bytes read (to be forwarded first), or null when the client is not an ssh client. */
    static byte[] check(Socket client) throws IOException {
        int before = client.getSoTimeout();
        client.setSoTimeout((int) TIMEOUT.toMillis());
        try {
            InputStream in = client.getInputStream();
            byte[] got = new byte[SSH.length];
            int n = 0;
            while (n < got.length) {
                int r = in.read(got, n, got.length - n);
                if (r < 0 || !Arrays.equals(got, 0, n + r, SSH, 0, n + r)) {
                    return null;
                }
                n += r;
            }
            return got;
        } catch (SocketTimeoutException e) {
            return null;
        } finally {
            client.setSoTimeout(before);
        }
    }
}
