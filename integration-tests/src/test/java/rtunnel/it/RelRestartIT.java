package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.EchoService;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Procs;
import rtunnel.it.support.RelServer;
import rtunnel.it.support.Sha256;
import rtunnel.it.support.V2Fixture;

/**
 * Issue 7, acceptance 1: fixed_rtunnel is killed with SIGKILL while sessions stream through
 * several tunnels, and started again with the same port and state file. The interrupted sessions
 * end on both ends (no hang), every dynamic side is back within 3 s of the server answering again,
 * on its old port, the allowlists are intact, and new sessions work.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class RelRestartIT {

    private static final String PASSWORD = V2Fixture.password(8);
    private static final byte[] BANNER = "REL RESTART\n".getBytes(US_ASCII);
    private static final int TUNNELS = 4;
    private static final int SESSIONS_PER_TUNNEL = 2;
    private static final Duration BACK_WITHIN = Duration.ofSeconds(3);
    /** How long an interrupted session may take to notice: the server's sockets die with it. */
    private static final Duration SESSION_END_WITHIN = Duration.ofSeconds(10);
    private static final int ROUND = 16 * 1024;

    @TempDir
    Path tmp;

    private RelServer fixed;
    private EchoService echo;
    private final List<Streamer> streamers = new ArrayList<>();

    @AfterEach
    void stopAll() throws IOException {
        for (Streamer s : streamers) {
            s.socket.close();
        }
        if (fixed != null) {
            fixed.close();
        }
        if (echo != null) {
            echo.close();
        }
    }

    @Test
    void killNineWhileSessionsStreamThenEveryTunnelIsBackOnItsOldPortWithinThreeSeconds() throws Exception {
        echo = EchoService.start(FixedServer.LOCAL, BANNER);
        fixed = RelServer.create(tmp.resolve("fixed"), PASSWORD, null);
        fixed.start();
        fixed.ok("addip-tunnel", V2Fixture.DYNAMIC_HOST);
        fixed.ok("addip-client", V2Fixture.CLIENT);
        fixed.ok("addip-client", "10.77.0.0/16");
        fixed.ok("addip-client", "2001:db8::/48");
        List<String> allowedTunnels = fixed.ok("list-allowed-tunnels", null);
        List<String> allowedClients = fixed.ok("list-allowed-clients", null);

        Map<String, Integer> ports = new LinkedHashMap<>();
        for (int i = 1; i <= TUNNELS; i++) {
            fixed.startDynamic(V2Fixture.DYNAMIC_HOST, "rel-r" + i, echo.port());
        }
        for (int i = 1; i <= TUNNELS; i++) {
            ports.put("rel-r" + i, fixed.awaitV2("rel-r" + i, Duration.ofSeconds(40)).port());
        }

        for (int port : ports.values()) {
            for (int k = 0; k < SESSIONS_PER_TUNNEL; k++) {
                streamers.add(Streamer.start(port, streamers.size()));
            }
        }
        Procs.waitFor(Duration.ofSeconds(30), () -> streamers.stream().allMatch(s -> s.rounds.get() >= 5),
                "every session to stream at least 5 rounds before the kill");
        int serviceConnections = echo.connections();
        assertEquals(TUNNELS * SESSIONS_PER_TUNNEL, serviceConnections, "sessions reaching the service");

        fixed.kill9();
        long killedAt = System.nanoTime();

        // Both ends of every interrupted session: the client sees EOF or a reset, the local service
        // sees its connection closed by the dynamic side; neither hangs.
        for (Streamer s : streamers) {
            long left = SESSION_END_WITHIN.toNanos() - (System.nanoTime() - killedAt);
            s.thread.join(Duration.ofNanos(Math.max(1, left)));
            assertTrue(!s.thread.isAlive(), () -> "session " + s.index + " still streaming " + SESSION_END_WITHIN
                    + " after the server was killed (rounds " + s.rounds.get() + ")\n" + fixed.describe());
            assertTrue(s.end.get() != null && !s.end.get().startsWith("mismatch"),
                    () -> "session " + s.index + " ended wrongly: " + s.end.get());
        }
        Procs.waitFor(SESSION_END_WITHIN, () -> echo.finished() >= serviceConnections,
                "every interrupted session to be closed at the local service too (finished " + echo.finished()
                        + " of " + serviceConnections + ")");

        long answered = fixed.start();
        Map<String, Long> backMillis = new LinkedHashMap<>();
        long deadline = answered + Duration.ofSeconds(30).toNanos();
        while (backMillis.size() < TUNNELS && System.nanoTime() < deadline) {
            List<Tunnel> now = fixed.tunnels();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - answered);
            for (Tunnel t : now) {
                if (t.protocol() == 2 && ports.containsKey(t.hostname()) && !backMillis.containsKey(t.hostname())) {
                    assertEquals(ports.get(t.hostname()), t.port(), () -> t.hostname() + " came back on another port: "
                            + t.line() + "\n" + fixed.describe());
                    backMillis.put(t.hostname(), ms);
                }
            }
            Thread.sleep(25);
        }
        assertEquals(ports.keySet(), backMillis.keySet(), () -> "tunnels back within 30 s: " + backMillis + "\n"
                + fixed.describe());
        long slowest = backMillis.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        assertTrue(slowest <= BACK_WITHIN.toMillis(), () -> "every dynamic side must be back within " + BACK_WITHIN
                + " of the restarted server answering; ms after it answered: " + backMillis + "\n" + fixed.describe());

        assertEquals(allowedTunnels, fixed.ok("list-allowed-tunnels", null), "tunnel allowlist after the restart");
        assertEquals(allowedClients, fixed.ok("list-allowed-clients", null), "client allowlist after the restart");

        for (Map.Entry<String, Integer> e : ports.entrySet()) {
            try (Socket s = V2Fixture.connect(V2Fixture.CLIENT, e.getValue())) {
                assertArrayEquals(BANNER, s.getInputStream().readNBytes(BANNER.length), "banner via " + e.getKey());
                byte[] msg = Sha256.randomBytes(ROUND, e.getValue());
                s.getOutputStream().write(msg);
                assertArrayEquals(msg, s.getInputStream().readNBytes(ROUND), "echo via " + e.getKey());
            }
        }
    }

    /** A session that writes a round and reads its echo back, again and again, until it fails. */
    private static final class Streamer {
        final int index;
        final Socket socket;
        final AtomicInteger rounds = new AtomicInteger();
        final AtomicLong bytes = new AtomicLong();
        final AtomicReference<String> end = new AtomicReference<>();
        Thread thread;

        private Streamer(int index, Socket socket) {
            this.index = index;
            this.socket = socket;
        }

        static Streamer start(int port, int index) throws IOException {
            Socket s = V2Fixture.connect(V2Fixture.CLIENT, port);
            s.setSoTimeout((int) Duration.ofSeconds(30).toMillis());
            Streamer st = new Streamer(index, s);
            st.thread = Thread.ofVirtual().name("streamer-" + index).start(st::run);
            return st;
        }

        private void run() {
            try {
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                byte[] banner = in.readNBytes(BANNER.length);
                if (!Arrays.equals(BANNER, banner)) {
                    end.set("mismatch: banner " + new String(banner, US_ASCII));
                    return;
                }
                for (int i = 0; i < 1_000_000; i++) {
                    byte[] msg = Sha256.randomBytes(ROUND, i * 31L + index);
                    out.write(msg);
                    byte[] back = in.readNBytes(ROUND);
                    if (back.length < ROUND) {
                        end.set("eof after " + back.length + " bytes of round " + i);
                        return;
                    }
                    if (!Arrays.equals(msg, back)) {
                        end.set("mismatch in round " + i);
                        return;
                    }
                    rounds.incrementAndGet();
                    bytes.addAndGet(2L * ROUND);
                }
                end.set("mismatch: never interrupted");
            } catch (java.net.SocketTimeoutException e) {
                end.set("mismatch: read timed out (hang) " + e);
            } catch (IOException e) {
                end.set("io " + e);
            }
        }
    }
}
