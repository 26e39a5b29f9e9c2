package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static rtunnel.it.support.V2Fixture.CLIENT;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Procs;
import rtunnel.it.support.Sha256;
import rtunnel.it.support.Sshd;
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2TestService;

/**
 * Issue 3, acceptance 1, 4 and 5: a v2 tunnel carries many sessions at once on one port, a
 * stalled session does not hold up the others, and half-closed streams stay half-closed.
 */
class V2SessionsIT {

    private static final int SSH_SESSIONS = 20;
    private static final int SSH_BYTES = 5 * 1024 * 1024;
    /** sshd drops logins beyond MaxStartups (10 unauthenticated by default): keep fewer in progress. */
    private static final int LOGINS_IN_PROGRESS = 6;
    private static final Duration SSH_TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    private Sshd sshd;
    private FixedServer fixed;
    private V2TestService service;

    @AfterEach
    void stopAll() throws IOException {
        if (fixed != null) {
            fixed.close();
        }
        if (sshd != null) {
            sshd.close();
        }
        if (service != null) {
            service.close();
        }
    }

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void twentyConcurrentSshSessionsShareOneTunnelAndPort() throws Exception {
        sshd = Sshd.start(tmp.resolve("sshd"), FixedServer.LOCAL);
        fixed = V2Fixture.startFixed(tmp.resolve("fixed"), V2Fixture.password(8));
        V2Fixture.startDynamic(fixed, "v2-ssh", sshd.port());
        Tunnel t = V2Fixture.awaitV2(fixed, "v2-ssh");

        // Each session marks itself logged in, then waits for the "go" file before hashing its
        // stdin: so all twenty are provably open at once through the one tunnel.
        Path gate = Files.createDirectories(tmp.resolve("gate"));
        Path go = gate.resolve("go");
        List<byte[]> data = new ArrayList<>();
        List<Future<Procs.Result>> runs = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(SSH_SESSIONS);
        try {
            for (int i = 0; i < SSH_SESSIONS; i++) {
                int started = i;
                Procs.waitFor(Duration.ofSeconds(30), () -> started - loggedIn(gate) < LOGINS_IN_PROGRESS,
                        "ssh logins to finish (" + started + " started)");
                byte[] d = Sha256.randomBytes(SSH_BYTES, 1000 + i);
                data.add(d);
                String cmd = "touch " + gate + "/s" + i + "; n=0; while [ ! -e " + go + " ] && [ $n -lt 600 ];"
                        + " do sleep 0.1; n=$((n+1)); done; ls " + gate + " | grep -c '^s'; echo session-" + i
                        + "; sha256sum";
                List<String> ssh = sshd.sshCommandFrom(CLIENT, t.port(), "127.0.0.1", cmd);
                runs.add(pool.submit(() -> Procs.runToEnd(ssh, d, SSH_TIMEOUT)));
            }
            Procs.waitFor(Duration.ofSeconds(60), () -> loggedIn(gate) == SSH_SESSIONS,
                    SSH_SESSIONS + " ssh sessions logged in at once; " + loggedIn(gate) + " so far\n" + logs());

            List<Tunnel> during = fixed.tunnels();
            assertEquals(1, during.size(), () -> "one tunnel expected while 20 sessions run: " + during);
            Tunnel now = during.get(0);
            assertEquals(t.id(), now.id(), now::line);
            assertEquals(t.port(), now.port(), now::line);
            assertEquals(2, now.protocol(), now::line);
            assertEquals(SSH_SESSIONS, now.sessions(), () -> "sessions while 20 ssh are logged in: " + now.line());
            Files.createFile(go);

            for (int i = 0; i < SSH_SESSIONS; i++) {
                Procs.Result r = runs.get(i).get(SSH_TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS);
                int n = i;
                assertEquals(0, r.exit(), () -> "ssh session " + n + ": " + r + "\n" + logs());
                assertEquals(SSH_SESSIONS + "\nsession-" + i + "\n" + Sha256.hex(data.get(i)) + "  -",
                        r.stdout().strip(), () -> "ssh session " + n + " output: " + r + "\n" + logs());
            }
        } finally {
            if (!Files.exists(go)) {
                Files.createFile(go);
            }
            pool.shutdownNow();
        }
        List<Tunnel> after = fixed.tunnels();
        assertEquals(1, after.size(), after::toString);
        assertEquals(t.id(), after.get(0).id(), after.get(0)::line);
        assertEquals(t.port(), after.get(0).port(), after.get(0)::line);
    }

    private static int loggedIn(Path gate) {
        try (Stream<Path> files = Files.list(gate)) {
            return (int) files.filter(p -> p.getFileName().toString().startsWith("s")).count();
        } catch (IOException e) {
            throw new AssertionError("cannot list " + gate, e);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aStalledSessionDoesNotSlowAnotherOne() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = V2Fixture.startFixed(tmp.resolve("fixed"), V2Fixture.password(8));
        V2Fixture.startDynamic(fixed, "v2-hol", service.port());
        int port = V2Fixture.awaitV2(fixed, "v2-hol").port();

        long size = 100L * 1024 * 1024;
        String expected = size + " " + V2TestService.pattern(size);
        stream(port, 8L * 1024 * 1024, null); // warm-up, not measured
        Duration baseline = stream(port, size, expected);

        try (Socket stalled = V2Fixture.connect(CLIENT, port)) {
            V2Fixture.send(stalled, "FLOOD");
            long[] last = {-1, System.nanoTime()};
            Procs.waitFor(Duration.ofSeconds(20), () -> {
                long now = service.floodBytes();
                if (now != last[0]) {
                    last[0] = now;
                    last[1] = System.nanoTime();
                    return false;
                }
                return now > 0 && System.nanoTime() - last[1] > TimeUnit.MILLISECONDS.toNanos(700);
            }, "the flooding session to stall (its client reads nothing)");
            long flooded = service.floodBytes();
            assertTrue(flooded >= 1024 * 1024, () -> "the stalled session has only " + flooded
                    + " bytes in flight; its window should be full\n" + fixed.describe());

            Duration loaded = stream(port, size, expected);
            Duration limit = baseline.multipliedBy(3).plusSeconds(2);
            assertTrue(loaded.compareTo(limit) <= 0, () -> "100 MB next to a stalled session took " + loaded.toMillis()
                    + " ms, alone " + baseline.toMillis() + " ms (limit " + limit.toMillis() + " ms)");

            // The stalled session was held back, not dropped: it still delivers when read.
            byte[] first = stalled.getInputStream().readNBytes(V2TestService.CHUNK);
            assertEquals(V2TestService.CHUNK, first.length, "the stalled session still delivers data");
        }
    }

    /**
     * Reads {@code STREAM size} through the tunnel, checks the byte count and (unless null) the
     * {@code "<count> <hash>"} expected, and returns how long it took.
     */
    private Duration stream(int port, long size, String expected) throws IOException {
        long t0 = System.nanoTime();
        String got;
        try (Socket s = V2Fixture.connect(CLIENT, port)) {
            V2Fixture.send(s, "STREAM " + size);
            got = V2TestService.hashToEnd(s.getInputStream());
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        if (expected != null) {
            assertEquals(expected, got, () -> "stream of " + size + " bytes\n" + fixed.describe());
        } else {
            assertTrue(got.startsWith(size + " "), () -> "stream of " + size + " bytes: " + got);
        }
        return took;
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void halfClosedStreamsStayHalfClosedEndToEnd() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = V2Fixture.startFixed(tmp.resolve("fixed"), V2Fixture.password(8));
        V2Fixture.startDynamic(fixed, "v2-half", service.port());
        int port = V2Fixture.awaitV2(fixed, "v2-half").port();

        // Client ends its output; the service reads to EOF and still answers through the tunnel.
        byte[] data = Sha256.randomBytes(3 * 1024 * 1024, 77);
        try (Socket s = V2Fixture.connect(CLIENT, port)) {
            V2Fixture.send(s, "HASH");
            s.getOutputStream().write(data);
            s.shutdownOutput();
            assertEquals(data.length + " " + Sha256.hex(data), V2Fixture.readLine(s), fixed::describe);
            assertEquals(-1, s.getInputStream().read(), "end of stream after the reply");
        }
        try (Socket s = V2Fixture.connect(CLIENT, port)) {
            V2Fixture.send(s, "HASH");
            s.shutdownOutput();
            assertEquals("0 " + Sha256.hex(new byte[0]), V2Fixture.readLine(s), fixed::describe);
        }

        // The other way round: the service ends its output first and still gets all the client sends.
        byte[] more = Sha256.randomBytes(2 * 1024 * 1024, 78);
        try (Socket s = V2Fixture.connect(CLIENT, port)) {
            V2Fixture.send(s, "EOFFIRST");
            InputStream in = s.getInputStream();
            assertEquals(-1, in.read(), "the service's half-close reaches the client");
            s.getOutputStream().write(more);
            s.shutdownOutput();
            String got = service.received().poll(20, TimeUnit.SECONDS);
            assertEquals(more.length + " " + Sha256.hex(more), got, () -> "what the service got after its own EOF\n"
                    + fixed.describe());
        }
        assertNotEquals(0, service.connections());
        assertTrue(service.errors().isEmpty(), () -> service.errors().toString());
    }

    private String logs() {
        return fixed.describe() + "--- sshd log:\n" + sshd.log();
    }
}
