package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.EchoService;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.SecLogs;
import rtunnel.it.support.Sshd;

/**
 * Acceptance 9: with {@code --ssh-only} a client that speaks HTTP (or nothing) gets nothing of
 * the service behind the tunnel, not even sshd's banner, while a real ssh client passes.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SecuritySshOnlyIT {

    private static final String PASSWORD = SecLogs.password(16);
    private static final String CLIENT = "127.0.0.3";
    private static final Duration READ = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    private FixedServer fixed;
    private Sshd sshd;

    @AfterEach
    void stopAll() {
        if (fixed != null) {
            fixed.close();
        }
        if (sshd != null) {
            sshd.close();
        }
        SecLogs.assertNoSecretsInLogs(tmp, List.of(PASSWORD));
    }

    @Test
    void httpAndSilentClientsGetNothingWhileRealSshPasses() throws IOException {
        sshd = Sshd.start(tmp.resolve("sshd"), FixedServer.LOCAL);
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD, "--ssh-only");
        fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-client=" + CLIENT);
        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + sshd.port(), "--hostname=sshonly");
        int port = fixed.awaitTunnel(Duration.ofSeconds(20), t -> t.hostname().equals("sshonly"), "the tunnel").port();

        try (Socket http = EchoService.connectFrom(Launchers.addr(CLIENT), FixedServer.LOCAL, port, READ)) {
            http.getOutputStream().write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(US_ASCII));
            Answer a = readUntilEnd(http.getInputStream());
            assertEquals("", a.text(), "an HTTP client must get nothing from behind the tunnel\n" + fixed.describe());
            assertEquals(true, a.closed(), "an HTTP client must be dropped\n" + fixed.describe());
        }

        // A scanner that only listens must not see sshd's banner either.
        try (Socket silent = EchoService.connectFrom(Launchers.addr(CLIENT), FixedServer.LOCAL, port,
                Duration.ofSeconds(3))) {
            Answer a = readUntilEnd(silent.getInputStream());
            assertEquals("", a.text(), "a silent client must not see the service's banner");
        }

        Procs.Result r = Procs.runToEnd(sshd.sshCommandFrom(CLIENT, port, "127.0.0.1", "echo", "through-ssh-only"),
                Duration.ofSeconds(60));
        assertEquals(0, r.exit(), () -> "ssh through --ssh-only failed: " + r + "\nsshd:\n" + sshd.log() + "\n"
                + fixed.describe());
        assertEquals("through-ssh-only\n", r.stdout());
    }

    private record Answer(String text, boolean closed) {
    }

    /** Reads (at most 4 KiB) until end of stream, reset or the socket's read timeout. */
    private static Answer readUntilEnd(InputStream in) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[512];
        try {
            while (got.size() < 4096) {
                int n = in.read(buf);
                if (n < 0) {
                    return new Answer(got.toString(US_ASCII), true);
                }
                got.write(buf, 0, n);
            }
            return new Answer(got.toString(US_ASCII), false);
        } catch (SocketTimeoutException e) {
            return new Answer(got.toString(US_ASCII), false);
        } catch (IOException e) {
            return new Answer(got.toString(US_ASCII), true);
        }
    }
}
