package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.RelLoad;
import rtunnel.it.support.RelServer;
import rtunnel.it.support.RelStats;
import rtunnel.it.support.SecControl;
import rtunnel.it.support.V1Peer;
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2TestService;

/**
 * Issue 7, acceptance 8 ({@code make soak}; skipped unless {@code -Drel.soak.minutes=N} is given):
 * a mixed load for N minutes against one server. Checked sessions run without pause over two
 * tunnels whose dynamic sides rotate their links on --alarm (a rotation must not break a session);
 * a third tunnel is dropped with --kill-tunnel every 20 s and must come back on its port; control
 * commands add, check and remove allowlist entries twice a second; v1 peers connect and leave.
 * At the end a summary table is printed and written to
 * {@code integration-tests/target/rel-soak-summary.txt}; the run fails on any error, or when the
 * server's descriptors, threads or heap after GC grew beyond a small bound.
 */
@Timeout(value = 60, unit = TimeUnit.MINUTES)
class RelSoakIT {

    private static final String PASSWORD = V2Fixture.password(8);
    private static final int SESSION_WORKERS = 4;
    private static final Duration KILL_EVERY = Duration.ofSeconds(20);
    private static final Duration SAMPLE_EVERY = Duration.ofSeconds(15);

    @TempDir
    Path tmp;

    private RelServer fixed;
    private V2TestService service;

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong sessions = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong controlCommands = new AtomicLong();
    private final AtomicLong kills = new AtomicLong();
    private final AtomicLong v1Cycles = new AtomicLong();
    private final Queue<String> errors = new ConcurrentLinkedQueue<>();
    private final Map<String, Integer> ports = new ConcurrentHashMap<>();
    private volatile RelStats peak;

    @AfterEach
    void stopAll() throws IOException {
        stop.set(true);
        if (fixed != null) {
            fixed.close();
        }
        if (service != null) {
            service.close();
        }
    }

    @Test
    void mixedLoadForMinutes() throws Exception {
        String minutesProp = System.getProperty("rel.soak.minutes");
        assumeTrue(minutesProp != null && !minutesProp.isBlank(), "soak runs only with -Drel.soak.minutes=N (make soak)");
        double minutes = Double.parseDouble(minutesProp);
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = RelServer.create(tmp.resolve("fixed"), PASSWORD, null, "--ping-interval=5", "--ping-timeout=15",
                "--maxtunnels=20");
        fixed.start();
        fixed.ok("addip-tunnel", V2Fixture.DYNAMIC_HOST);
        fixed.ok("addip-tunnel", "127.0.20.0/24");
        fixed.ok("addip-client", V2Fixture.CLIENT);
        List<Procs> dyns = List.of(
                fixed.startDynamic(V2Fixture.DYNAMIC_HOST, "soak-a", service.port(), "--alarm=30"),
                fixed.startDynamic(V2Fixture.DYNAMIC_HOST, "soak-b", service.port()),
                fixed.startDynamic(V2Fixture.DYNAMIC_HOST, "soak-c", service.port(), "--alarm=45"));
        for (String h : List.of("soak-a", "soak-b", "soak-c")) {
            ports.put(h, fixed.awaitV2(h, Duration.ofSeconds(60)).port());
        }
        RelLoad.echo(V2Fixture.CLIENT, ports.get("soak-a"), 1 << 20, 1, Duration.ofSeconds(30));
        Thread.sleep(2000);
        RelStats start = RelStats.afterGc(fixed.pid());
        peak = start;

        long t0 = System.nanoTime();
        long end = t0 + (long) (minutes * 60e9);
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < SESSION_WORKERS; w++) {
            int id = w;
            workers.add(Thread.ofVirtual().name("soak-sessions-" + w).start(() -> sessionLoop(id, end)));
        }
        workers.add(Thread.ofVirtual().name("soak-kill").start(() -> killLoop(end)));
        workers.add(Thread.ofVirtual().name("soak-control").start(() -> controlLoop(end)));
        workers.add(Thread.ofVirtual().name("soak-v1").start(() -> v1Loop(end)));
        workers.add(Thread.ofVirtual().name("soak-sample").start(() -> sampleLoop(end)));
        for (Thread w : workers) {
            w.join(Duration.ofNanos(Math.max(1, end - System.nanoTime())).plusSeconds(120));
            if (w.isAlive()) {
                errors.add(w.getName() + " still running 120 s after the end");
            }
        }
        stop.set(true);
        long elapsedS = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);

        Procs.waitFor(Duration.ofSeconds(60), () -> fixed.tunnels().stream().allMatch(t -> t.protocol() == 2
                && t.sessions() == 0) && fixed.tunnels().size() == 3, "three idle v2 tunnels after the soak");
        Thread.sleep(2000);
        RelStats last = RelStats.afterGc(fixed.pid());
        long rotations = dyns.stream().mapToLong(d -> V2Fixture.count(d.output(), "(?i)rotated")).sum();
        long reconnects = dyns.stream().mapToLong(d -> V2Fixture.count(d.output(), "(?i)connected to .*protocol 2")
                - 1).sum();
        String summary = summary(elapsedS, start, last, rotations, reconnects);
        System.out.println(summary);
        Path out = Launchers.home().resolve("integration-tests/target/rel-soak-summary.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, summary);

        assertTrue(errors.isEmpty(), () -> errors.size() + " errors: " + List.copyOf(errors).subList(0,
                Math.min(20, errors.size())) + "\n" + fixed.describe());
        assertTrue(sessions.get() > 0, "no session ran");
        assertTrue(minutes < 1 || rotations >= 1, "no alarm rotation in " + minutes + " minutes");
        assertTrue(reconnects >= kills.get(), () -> "every --kill-tunnel must be followed by a reconnect: "
                + kills.get() + " kills, " + reconnects + " reconnects");
        assertTrue(last.fds() <= start.fds() + 20, () -> "descriptors grew: " + start + " -> " + last);
        assertTrue(last.threads() <= start.threads() + 20, () -> "threads grew: " + start + " -> " + last);
        assertTrue(last.heapKb() <= start.heapKb() + 16 * 1024, () -> "heap after GC grew: " + start + " -> " + last);
    }

    /** Checked ECHO sessions of 64 KiB to 4 MiB over the rotating tunnels, back to back. */
    private void sessionLoop(int id, long end) {
        Random rnd = new Random(id);
        for (long i = 0; i < 10_000_000 && !stop.get() && System.nanoTime() < end; i++) {
            String host = rnd.nextBoolean() ? "soak-a" : "soak-c";
            long n = 64 * 1024 + rnd.nextInt(4 << 20);
            try {
                bytes.addAndGet(RelLoad.echo(V2Fixture.CLIENT, ports.get(host), n, id * 1_000_000L + i,
                        Duration.ofSeconds(60)));
                sessions.incrementAndGet();
            } catch (IOException | RuntimeException e) {
                errors.add("session via " + host + ": " + e);
                pause(500);
            }
        }
    }

    /** Drops soak-b's tunnel every {@link #KILL_EVERY}; it must be back on its port, and carry a session. */
    private void killLoop(long end) {
        while (!stop.get() && System.nanoTime() + KILL_EVERY.toNanos() < end) {
            pause(KILL_EVERY.toMillis());
            try {
                Tunnel old = fixed.v2("soak-b").orElseThrow(() -> new AssertionError("soak-b not listed"));
                fixed.ok("kill-tunnel", Integer.toString(old.id()));
                kills.incrementAndGet();
                Tunnel back = fixed.awaitTunnel(Duration.ofSeconds(30), t -> t.hostname().equals("soak-b")
                        && t.protocol() == 2 && t.id() != old.id(), "soak-b back after --kill-tunnel");
                if (back.port() != old.port()) {
                    errors.add("soak-b came back on port " + back.port() + " instead of " + old.port());
                }
                bytes.addAndGet(RelLoad.echo(V2Fixture.CLIENT, back.port(), 256 * 1024, kills.get(),
                        Duration.ofSeconds(30)));
                sessions.incrementAndGet();
            } catch (IOException | RuntimeException | AssertionError e) {
                errors.add("kill cycle: " + e);
            }
        }
    }

    /** Twice a second: add an entry, see it listed, remove it, list the tunnels. */
    private void controlLoop(long end) {
        Random rnd = new Random(7);
        for (long i = 0; !stop.get() && System.nanoTime() < end; i++) {
            String ip = "10." + rnd.nextInt(256) + "." + rnd.nextInt(256) + "." + (1 + rnd.nextInt(254));
            try (SecControl c = SecControl.open(fixed.socket())) {
                check(c.request("addip-client", ip), "addip-client " + ip);
                if (!c.addresses("list-allowed-clients").contains(ip)) {
                    errors.add("control: " + ip + " not listed after addip-client");
                }
                check(c.request("delip-client", ip), "delip-client " + ip);
                check(c.request("list-tunnels", null), "list-tunnels");
                controlCommands.addAndGet(4);
            } catch (IOException e) {
                errors.add("control: " + e);
            }
            if (i % 60 == 59) {
                Procs.Result r = fixed.cli("--list-tunnels", "--json");
                controlCommands.incrementAndGet();
                if (r.exit() != 0 || !r.stdout().contains("soak-a")) {
                    errors.add("control CLI --list-tunnels --json: " + r);
                }
            }
            pause(500);
        }
    }

    private void check(SecControl.Reply r, String what) {
        if (!r.ok()) {
            errors.add("control " + what + " refused: " + r.lines());
        }
    }

    /** Every 2 s a v1 peer connects, is listed, and leaves. */
    private void v1Loop(long end) {
        for (int i = 0; !stop.get() && System.nanoTime() < end; i++) {
            String host = "soakv1-" + (i % 4);
            int k = i;
            try (V1Peer.Client c = V1Peer.Client.connect(Launchers.addr("127.0.20." + (1 + i % 200)),
                    FixedServer.LOCAL, fixed.port(), V1Peer.password(PASSWORD), host)) {
                fixed.awaitTunnel(Duration.ofSeconds(20), t -> t.hostname().equals(host) && t.protocol() == 1,
                        "v1 tunnel " + host);
                if (k % 2 == 0) {
                    c.closeAbruptly();
                }
            } catch (IOException | RuntimeException | AssertionError e) {
                errors.add("v1 cycle: " + e);
            }
            try {
                fixed.awaitNoTunnel(Duration.ofSeconds(20), t -> t.hostname().equals(host) && t.protocol() == 1,
                        "v1 tunnel " + host + " gone");
                v1Cycles.incrementAndGet();
            } catch (RuntimeException | AssertionError e) {
                errors.add("v1 cycle end: " + e);
            }
            pause(2000);
        }
    }

    private void sampleLoop(long end) {
        while (!stop.get() && System.nanoTime() < end) {
            pause(SAMPLE_EVERY.toMillis());
            try {
                RelStats s = RelStats.of(fixed.pid());
                RelStats p = peak;
                peak = new RelStats(Math.max(p.fds(), s.fds()), Math.max(p.threads(), s.threads()),
                        Math.max(p.rssKb(), s.rssKb()), p.heapKb());
            } catch (RuntimeException | AssertionError e) {
                errors.add("sample: " + e);
            }
        }
    }

    private String summary(long seconds, RelStats start, RelStats end, long rotations, long reconnects) {
        RelStats p = peak;
        StringBuilder b = new StringBuilder("\n=== rtunnel soak summary (" + seconds + " s) ===\n");
        row(b, "sessions done", Long.toString(sessions.get()));
        row(b, "bytes moved (both ways, SHA-256 checked)", bytes.get() + " (" + bytes.get() / (1024 * 1024) + " MB)");
        row(b, "errors", Long.toString(errors.size()));
        row(b, "alarm rotations", Long.toString(rotations));
        row(b, "reconnects (after --kill-tunnel)", reconnects + " (kills " + kills.get() + ")");
        row(b, "v1 tunnel connect/disconnect cycles", Long.toString(v1Cycles.get()));
        row(b, "control commands", Long.toString(controlCommands.get()));
        b.append(String.format("%-42s %12s %12s %12s%n", "server", "start", "end", "peak"));
        b.append(String.format("%-42s %12d %12d %12d%n", "  open file descriptors", start.fds(), end.fds(), p.fds()));
        b.append(String.format("%-42s %12d %12d %12d%n", "  threads", start.threads(), end.threads(), p.threads()));
        b.append(String.format("%-42s %12d %12d %12d%n", "  RSS (KiB)", start.rssKb(), end.rssKb(), p.rssKb()));
        b.append(String.format("%-42s %12d %12d %12s%n", "  heap after full GC (KiB)", start.heapKb(), end.heapKb(),
                "-"));
        return b.toString();
    }

    private static void row(StringBuilder b, String name, String value) {
        b.append(String.format("%-42s %12s%n", name, value));
    }

    private void pause(long millis) {
        long until = System.currentTimeMillis() + millis;
        while (!stop.get() && System.currentTimeMillis() < until) {
            try {
                Thread.sleep(Math.min(200, Math.max(1, until - System.currentTimeMillis())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
