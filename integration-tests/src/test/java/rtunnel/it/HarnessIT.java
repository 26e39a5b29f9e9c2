package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.ExtendedSSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.Sha256;
import rtunnel.it.support.Sshd;
import rtunnel.it.support.V1Peer;

/**
 * Tests the test harness itself, without the project's programs: if sshd, ssh or the v1 stand-ins
 * misbehave, every other integration test would fail for the wrong reason.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HarnessIT {

    private static final InetAddress LOCAL = Launchers.addr("127.0.0.1");
    private static final Duration SSH_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    private Sshd sshd;
    private V1Peer.Server server;

    @AfterEach
    void stopAll() throws IOException {
        if (sshd != null) {
            sshd.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void sshRunsACommandThroughRealSshd() throws IOException {
        sshd = Sshd.start(tmp.resolve("sshd"), LOCAL);
        Procs.Result r = Procs.runToEnd(sshd.sshCommand(sshd.port(), "127.0.0.1", "echo", "hello"), SSH_TIMEOUT);
        assertEquals(0, r.exit(), () -> r + "\nsshd log:\n" + sshd.log());
        assertEquals("hello", r.stdout().strip());
    }

    @Test
    void sshCarriesTwoMegabytesIntact() throws IOException {
        sshd = Sshd.start(tmp.resolve("sshd"), LOCAL);
        byte[] data = Sha256.randomBytes(2 * 1024 * 1024);
        Procs.Result r = Procs.runToEnd(sshd.sshCommandFrom("127.0.0.3", sshd.port(), "127.0.0.1", "sha256sum"),
                data, SSH_TIMEOUT);
        assertEquals(0, r.exit(), () -> r + "\nsshd log:\n" + sshd.log());
        assertEquals(Sha256.hex(data) + "  -", r.stdout().strip());
        assertTrue(sshd.log().contains("127.0.0.3"), () -> "ssh -b did not take effect:\n" + sshd.log());
    }

    @Test
    void v1ClientAndServerSpeakTheProtocol() throws Exception {
        server = new V1Peer.Server(LOCAL, 0, resource("v1peer.key"), resource("v1peer.cert"));
        byte[] password = V1Peer.password("0123456789abcdef");
        try (V1Peer.Client client = V1Peer.Client.connect(Launchers.addr("127.0.0.3"), LOCAL, server.port(),
                        password, "harness-long-name");
                V1Peer.Conn conn = server.accept(Duration.ofSeconds(10))) {
            assertEquals(V1Peer.GREETING, server.greetings().poll());
            assertArrayEquals(password, conn.auth().password());
            assertEquals("harness-", conn.auth().hostname(), "hostname cut to 8 bytes");
            assertEquals("127.0.0.3", conn.auth().peer().getHostAddress());
            assertEquals("TLSv1.3", client.tls().getSession().getProtocol());
            var serverSession = (ExtendedSSLSession) conn.tls().getSession();
            assertEquals(List.of(), serverSession.getRequestedServerNames(), "no SNI, like the original");
            assertEquals("", conn.tls().getApplicationProtocol(), "no ALPN, like the original");

            conn.sendKeepalive();
            assertEquals(V1Peer.KEEPALIVE, client.readMessage(Duration.ofSeconds(5)));
            conn.sendStart();
            assertEquals(V1Peer.START, client.readMessage(Duration.ofSeconds(5)));

            byte[] data = Sha256.randomBytes(512 * 1024);
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    client.out().write(data);
                    client.out().flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            byte[] got = conn.in().readNBytes(data.length);
            assertTrue(writer.join(Duration.ofSeconds(10)), "writer finished");
            assertEquals(Sha256.hex(data), Sha256.hex(got));

            // The original ends a session with a bare TCP close; the client must see the end, not hang.
            conn.closeAbruptly();
            client.tls().setSoTimeout(5000);
            assertEndOfStream(client.in());
        }
    }

    @Test
    void v1ServerClosesOnAWrongGreeting() throws Exception {
        server = new V1Peer.Server(LOCAL, 0, resource("v1peer.key"), resource("v1peer.cert"));
        try (Socket s = new Socket(LOCAL, server.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("TUNNEL02".getBytes(StandardCharsets.US_ASCII));
            assertEquals(-1, s.getInputStream().read(), "server closes without answering");
        }
        assertEquals("TUNNEL02", server.greetings().poll(5, TimeUnit.SECONDS));
        assertThrows(AssertionError.class, () -> server.accept(Duration.ofMillis(200)));
    }

    private static void assertEndOfStream(InputStream in) {
        try {
            assertEquals(-1, in.read());
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no end of stream 5 s after the peer closed", e);
        } catch (IOException e) {
            // JSSE may report a TCP close without close_notify as an error: still an end.
        }
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(HarnessIT.class.getResource("/" + name).toURI());
    }
}
