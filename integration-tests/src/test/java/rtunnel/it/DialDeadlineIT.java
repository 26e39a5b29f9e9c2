package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import rtunnel.it.support.FixedServer;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.V2Fixture;

/**
 * dynamic_rtunnel's dial steps end on a deadline that closes the socket (its link socket is never
 * given a timeout, see Deadline): a server that accepts and then says nothing, or answers TUNNEL01
 * and then sends no TLS, is given up after the 10 s handshake deadline with "Read timed out", as
 * the read timeouts did, and dialed again.
 */
class DialDeadlineIT {
    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aSilentServerIsGivenUpAfterTheHandshakeDeadline() throws Exception {
        assertGivenUp(false);
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aServerSilentAfterTunnel01IsGivenUpAfterTheHandshakeDeadline() throws Exception {
        assertGivenUp(true);
    }

    private void assertGivenUp(boolean answerMagic) throws Exception {
        List<Long> accepted = new CopyOnWriteArrayList<>();
        List<Socket> held = new CopyOnWriteArrayList<>();
        try (ServerSocket silent = new ServerSocket()) {
            silent.bind(new InetSocketAddress(FixedServer.LOCAL, 0));
            Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
                for (int i = 0; i < 10; i++) { // bounded: the test needs two
                    try {
                        Socket s = silent.accept();
                        accepted.add(System.nanoTime());
                        held.add(s);
                        if (answerMagic) {
                            InputStream in = s.getInputStream();
                            byte[] magic = in.readNBytes(8);
                            s.getOutputStream().write(magic); // TUNNEL01 back, then silence
                        }
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            long start = System.nanoTime();
            List<String> cmd = List.of(Launchers.dynamicRtunnel().toString(), "--debug", "--notroot",
                    "--remoteip=127.0.0.1", "--remoteport=" + silent.getLocalPort(), "--password=" + V2Fixture.password(8),
                    "--insecure", "--hostname=silent", "--localport=22");
            try (Procs dynamic = Procs.start(tmp, "dynamic", cmd)) {
                V2Fixture.awaitLog(dynamic, Duration.ofSeconds(40), "failed: Read timed out",
                        "the dial given up with Read timed out", null);
                long gaveUp = System.nanoTime();
                Procs.waitFor(Duration.ofSeconds(40), () -> accepted.size() >= 2, "a second dial");
                long first = accepted.get(0);
                double waited = (gaveUp - first) / 1e9;
                assertTrue(waited >= 9 && waited <= 25, "gave up " + waited + " s after the connection\n"
                        + dynamic.output());
                assertTrue(dynamic.isAlive(), dynamic.output());
                assertTrue(first - start < 20_000_000_000L, "dialed within 20 s of the start");
            } finally {
                for (Socket s : held) {
                    s.close();
                }
                silent.close();
                acceptor.join(5000);
            }
        }
    }
}
