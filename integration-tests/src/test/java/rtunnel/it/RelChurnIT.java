package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.RelLoad;
import rtunnel.it.support.RelScale;
import rtunnel.it.support.RelServer;
import rtunnel.it.support.RelStats;
import rtunnel.it.support.V1Peer;
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2TestService;

/**
 * Issue 7, acceptance 4: session and tunnel churn against one server leaves nothing behind. Short
 * run: 1,000 session open/close cycles through a v2 tunnel and 50 tunnel connect/disconnect cycles
 * (v1 peers from changing addresses, some carrying a session, and v2 links dropped with
 * --kill-tunnel so the dynamic side re-dials); {@code -Drel.full=true} runs the 10,000 and
 * 1,000. Afterwards the server's file descriptors, threads and heap after a full GC are within a
 * small bound of what they were before (the dynamic side's descriptors too).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RelChurnIT extends RelTestBase {

    private static final String PASSWORD = V2Fixture.password(8);
    private static final int SESSIONS = RelScale.of("rel.churn.sessions", 1000, 10_000);
    private static final int TUNNEL_CYCLES = RelScale.of("rel.churn.tunnels", 50, 1000);
    /** Every fifth tunnel cycle drops the v2 tunnel; the others are v1 peers. */
    private static final int V2_EVERY = 5;
    private static final int WORKERS = 4;
    private static final int MAX_FD_GROWTH = 10;
    private static final int MAX_THREAD_GROWTH = 10;
    private static final long MAX_HEAP_GROWTH_KB = 8 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void sessionAndTunnelChurnLeavesDescriptorsThreadsAndHeapWhereTheyWere() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = RelServer.create(tmp.resolve("fixed"), PASSWORD, null);
        fixed.start();
        fixed.ok("addip-tunnel", V2Fixture.DYNAMIC_HOST);
        fixed.ok("addip-tunnel", "127.0.20.0/24");
        fixed.ok("addip-client", V2Fixture.CLIENT);
        Procs dyn = fixed.startDynamic(V2Fixture.DYNAMIC_HOST, "rel-churn", service.port());
        fixed.awaitV2("rel-churn", Duration.ofSeconds(40));

        // Warm up every path once, so lazily made pools and caches are in the "before" figures.
        sessions(100);
        for (int i = 0; i < 2 * V2_EVERY; i++) {
            tunnelCycle(i);
        }
        settle();
        RelStats before = RelStats.afterGc(fixed.pid());
        int dynFdsBefore = RelStats.fds(dyn.pid());

        long t0 = System.nanoTime();
        sessions(SESSIONS);
        long sessionsMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        t0 = System.nanoTime();
        for (int i = 0; i < TUNNEL_CYCLES; i++) {
            tunnelCycle(i);
        }
        long tunnelsMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        settle();
        RelStats after = RelStats.afterGc(fixed.pid());
        int dynFdsAfter = RelStats.fds(dyn.pid());
        System.out.printf("RelChurnIT: %d sessions in %d ms, %d tunnel cycles in %d ms; server before %s, after %s;"
                + " dynamic fds %d -> %d%n", SESSIONS, sessionsMs, TUNNEL_CYCLES, tunnelsMs, before, after,
                dynFdsBefore, dynFdsAfter);

        String figures = "server before: " + before + ", after: " + after;
        assertTrue(after.fds() <= before.fds() + MAX_FD_GROWTH, () -> "file descriptors grew: " + figures
                + "\n" + fixed.describe());
        assertTrue(after.threads() <= before.threads() + MAX_THREAD_GROWTH, () -> "threads grew: " + figures
                + "\n" + RelStats.jcmd(fixed.pid(), "Thread.print"));
        assertTrue(after.heapKb() <= before.heapKb() + MAX_HEAP_GROWTH_KB, () -> "heap after GC grew: " + figures);
        assertTrue(dynFdsAfter <= dynFdsBefore + MAX_FD_GROWTH, () -> "dynamic side's file descriptors grew: "
                + dynFdsBefore + " -> " + dynFdsAfter + "\n" + fixed.describe());
        assertTrue(service.errors().isEmpty(), () -> "local service errors: " + service.errors());
    }

    /** {@code n} short ECHO sessions through the v2 tunnel, {@value #WORKERS} at a time; all must succeed. */
    private void sessions(int n) throws Exception {
        int port = fixed.awaitV2("rel-churn", WAIT).port();
        AtomicInteger next = new AtomicInteger();
        Queue<String> errors = new ConcurrentLinkedQueue<>();
        List<Thread> workers = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(Math.max(60, n / 10)).toNanos();
        for (int w = 0; w < WORKERS; w++) {
            workers.add(Thread.ofVirtual().name("churn-" + w).start(() -> {
                for (int i; (i = next.getAndIncrement()) < n && errors.size() < 10
                        && System.nanoTime() < deadline; ) {
                    try {
                        RelLoad.echo(V2Fixture.CLIENT, port, 1024 + i % 4096, i, Duration.ofSeconds(20));
                    } catch (IOException | RuntimeException e) {
                        errors.add("session " + i + ": " + e);
                    }
                }
            }));
        }
        for (Thread w : workers) {
            w.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime()) + Duration.ofSeconds(30).toNanos()));
        }
        assertTrue(errors.isEmpty(), () -> "session churn errors: " + errors + "\n" + fixed.describe());
        assertTrue(next.get() >= n, () -> "only " + next.get() + " of " + n + " sessions ran before the deadline");
    }

    /**
     * One tunnel connect/disconnect: a v1 peer from a changing address (every other one carries a
     * session, ended by the peer), or, every {@value #V2_EVERY}th cycle, the v2 tunnel dropped with
     * --kill-tunnel and awaited back from the dynamic side's re-dial.
     */
    private void tunnelCycle(int i) throws Exception {
        if (i % V2_EVERY == V2_EVERY - 1) {
            Tunnel old = fixed.awaitV2("rel-churn", WAIT);
            fixed.ok("kill-tunnel", Integer.toString(old.id()));
            Tunnel back = fixed.awaitTunnel(WAIT, t -> t.hostname().equals("rel-churn") && t.protocol() == 2
                    && t.id() != old.id(), "the v2 tunnel back after --kill-tunnel (cycle " + i + ")");
            assertEquals(old.port(), back.port(), () -> "v2 tunnel came back on another port: " + back.line());
            return;
        }
        String host = "churn" + (i % 8);
        try (V1Peer.Client c = V1Peer.Client.connect(Launchers.addr("127.0.20." + (1 + i % 200)), FixedServer.LOCAL,
                fixed.port(), V1Peer.password(PASSWORD), host)) {
            Tunnel t = fixed.awaitTunnel(WAIT, x -> x.hostname().equals(host) && x.protocol() == 1,
                    "v1 tunnel " + host + " (cycle " + i + ")");
            if (i % 2 == 0) {
                try (Socket s = V2Fixture.connect(V2Fixture.CLIENT, t.port())) {
                    assertEquals(V1Peer.START, c.readMessage(Duration.ofSeconds(15)), "v1 start message");
                    c.out().write(("hello " + i).getBytes(US_ASCII));
                    c.out().flush();
                    byte[] got = s.getInputStream().readNBytes(("hello " + i).length());
                    assertEquals("hello " + i, new String(got, US_ASCII), "v1 session bytes (cycle " + i + ")");
                }
            }
            if (i % 3 == 0) {
                c.closeAbruptly();
            }
        }
        fixed.awaitNoTunnel(WAIT, x -> x.hostname().equals(host) && x.protocol() == 1,
                "v1 tunnel " + host + " gone after its peer closed (cycle " + i + ")");
    }

    /** Waits until only the v2 tunnel is left, idle, then a little longer for threads to end. */
    private void settle() throws InterruptedException {
        fixed.awaitTunnel(WAIT, t -> t.hostname().equals("rel-churn") && t.protocol() == 2 && t.sessions() == 0,
                "the v2 tunnel idle");
        Procs.waitFor(WAIT, () -> fixed.tunnels().size() == 1, "only the v2 tunnel left");
        Thread.sleep(2000);
    }
}
