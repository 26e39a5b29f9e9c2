package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.SecControl;
import rtunnel.it.support.SecFiles;
import rtunnel.it.support.SecLogs;

/**
 * Acceptance 4 (crash part): the server is killed with SIGKILL at random moments, 200 times, while
 * changes stream into its allowlists. Each iteration starts the server on the state file the last
 * kill left behind (a torn or unreadable file would stop that start), checks that every change
 * the server reported done before the kill is there (an add present, a delete absent; only the
 * one change in flight at the kill may have gone either way), then changes the allowlists
 * (adds and deletes over the raw control protocol, and every tenth iteration also through the
 * real {@code fixed_rtunnel --addip-client} CLI) until the kill, which lands 0 to 300 ms after the
 * server answered (0 to 1500 ms when the CLI runs, so that it gets its word in), or, in one
 * iteration of ten, at a random moment of the start itself.
 *
 * <p>Two independent servers are crashed in parallel (100 iterations each) to keep the run short:
 * a server start is a JVM start. {@code -Drtunnel.it.crashloop.iterations=N},
 * {@code -Drtunnel.it.crashloop.workers=N} and {@code -Drtunnel.it.crashloop.seed=S} change that.
 * The servers of the loop share a JVM class archive made by one clean run first (faster starts).
 */
// A hang guard only: the loop takes about 2 minutes on an idle 2-core machine, far more on a busy one.
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class SecurityCrashLoopIT {

    private static final int ITERATIONS = Integer.getInteger("rtunnel.it.crashloop.iterations", 200);
    private static final int WORKERS = Integer.getInteger("rtunnel.it.crashloop.workers", 2);
    private static final String PASSWORD = SecLogs.password(16);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    /** Each CLI call is one more JVM start: every tenth iteration is enough to cover the real client. */
    private static final int CLI_EVERY = 10;
    private static final Pattern STATE_LINE = Pattern.compile(
            "#.*|(tunnel|client) \\S+( expires \\S+)?|port \\S+ \\d{1,5}|device SHA256:\\S+|");

    @TempDir
    Path tmp;

    @Test
    void killNineAtRandomMomentsNeverTearsTheStateNorLosesAReportedChange() throws Exception {
        long seed = Long.getLong("rtunnel.it.crashloop.seed", System.nanoTime());
        Path key = tmp.resolve("fixed.key");
        Path cert = tmp.resolve("fixed.cert");
        SecFiles.generateCert(key, cert);
        long t0 = System.nanoTime();
        String javaOpts = classArchive(key, cert);
        List<Worker> workers = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
            int n = ITERATIONS / WORKERS + (w < ITERATIONS % WORKERS ? 1 : 0);
            workers.add(new Worker(tmp.resolve("w" + w), key, cert, n, new Random(seed + w), javaOpts));
        }
        ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
        try {
            List<Future<String>> results = pool.invokeAll(workers);
            StringBuilder summary = new StringBuilder();
            for (Future<String> f : results) {
                summary.append(f.get()).append('\n');
            }
            int total = workers.stream().mapToInt(w -> w.kills).sum();
            System.out.printf("crash loop (seed %d, %s): %d kills in %.1f s%n%s", seed,
                    javaOpts.isEmpty() ? "no class archive" : "class archive", total, (System.nanoTime() - t0) / 1e9, summary);
            assertEquals(ITERATIONS, total, "every iteration ends in a kill -9");
            assertTrue(workers.stream().mapToLong(w -> w.acked).sum() >= ITERATIONS,
                    "the loop must actually have made changes: " + summary);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError("crash loop failed (seed " + seed + "): " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
        SecLogs.assertNoSecretsInLogs(tmp, List.of(PASSWORD));
    }

    /**
     * A JVM class archive of the server (application class data sharing), made by one clean run,
     * so that the 200 starts of the loop cost less; the JVM options to use it, or "" (and the loop
     * runs without) if the JVM made none. It changes how fast classes load, nothing the server does.
     */
    private String classArchive(Path key, Path cert) throws Exception {
        Path dir = tmp.resolve("cds");
        SecFiles.mkdirs(dir);
        Path jsa = dir.resolve("fixed.jsa");
        Path socket = dir.resolve("ctl.sock");
        Procs p = Procs.start(dir, "fixed-cds", List.of(Launchers.fixedRtunnel().toString(), "--debug", "--notroot",
                "--port=" + SecFiles.freeListenPort(), "--socketname=" + socket, "--keyfile=" + key, "--certfile=" + cert,
                "--statefile=" + dir.resolve("fixed.state")),
                Map.of("RTUNNEL_PASSWORD", PASSWORD, "RTUNNEL_JAVA_OPTS", "-XX:ArchiveClassesAtExit=" + jsa));
        try {
            Procs.waitFor(READY_TIMEOUT, () -> {
                if (!p.isAlive()) {
                    return true;
                }
                try (SecControl c = SecControl.open(socket)) {
                    return c.request("addip-tunnel", "10.0.0.1").ok() && c.request("delip-tunnel", "10.0.0.1").ok();
                } catch (IOException e) {
                    return false;
                }
            }, "the class-archive run of fixed_rtunnel answering");
        } finally {
            p.stop(); // SIGTERM: the JVM writes the archive as it exits
        }
        return Files.isRegularFile(jsa) ? "-XX:SharedArchiveFile=" + jsa : "";
    }

    /** One server and its state file, crashed {@code iterations} times. */
    private static final class Worker implements Callable<String> {
        private final Path dir;
        private final Path key;
        private final Path cert;
        private final Path state;
        private final Path socket;
        private final int iterations;
        private final Random rnd;
        /** What the allowlists hold according to every answer received so far: list name to address to present. */
        private final Map<String, Map<String, Boolean>> model = new LinkedHashMap<>();
        /** Added through the CLI and reported done: must be present from then on (never deleted). */
        private final Set<String> cliAdded = new LinkedHashSet<>();
        private int cliSeq;
        int kills;
        long acked;
        private int earlyKills;
        private int inFlightAtKill;
        private long readyNanos;
        private int readyCount;

        private final String javaOpts;

        Worker(Path dir, Path key, Path cert, int iterations, Random rnd, String javaOpts) {
            this.javaOpts = javaOpts;
            this.dir = dir;
            this.key = key;
            this.cert = cert;
            this.state = dir.resolve("fixed.state");
            this.socket = dir.resolve("ctl.sock");
            this.iterations = iterations;
            this.rnd = rnd;
            model.put("tunnel", pool("10.1.0.", "fd00:1::", "10.3."));
            model.put("client", pool("10.2.0.", "fd00:2::", "10.4."));
        }

        /** 20 addresses per list, IPv4, IPv6 and CIDR, all written as the server prints them. */
        private static Map<String, Boolean> pool(String v4, String v6, String cidr) {
            Map<String, Boolean> m = new LinkedHashMap<>();
            for (int i = 1; i <= 10; i++) {
                m.put(v4 + i, false);
            }
            for (int i = 1; i <= 5; i++) {
                m.put(v6 + i, false);
                m.put(cidr + i + ".0/24", false);
            }
            return m;
        }

        /** The server of the running iteration, killed whatever happens (a timeout interrupts the loop). */
        private volatile Procs current;

        @Override
        public String call() throws Exception {
            try {
                return run();
            } finally {
                Procs p = current;
                if (p != null) {
                    ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }

        private String run() throws Exception {
            SecFiles.mkdirs(dir);
            for (int i = 0; i < iterations; i++) {
                iteration(i);
            }
            // One more start: the state the last kill left must load and hold everything.
            for (int attempt = 1; ; attempt++) {
                Procs server = startServer();
                try (SecControl ctl = awaitReady(server, iterations, Long.MAX_VALUE)) {
                    if (ctl != null) {
                        verify(ctl, iterations);
                        break;
                    }
                    if (attempt >= 4) {
                        throw new AssertionError("final start: no free port after 4 tries");
                    }
                } finally {
                    server.stop();
                }
            }
            return String.format("%s: %d kills (%d during start), %d changes reported done (%d by the CLI),"
                    + " %d kills with a change in flight, mean start-to-ready %.0f ms", dir.getFileName(), kills,
                    earlyKills, acked, cliAdded.size(), inFlightAtKill,
                    readyCount == 0 ? 0.0 : readyNanos / 1e6 / readyCount);
        }

        private void iteration(int i) throws Exception {
            boolean early = rnd.nextInt(10) == 0;
            boolean cli = !early && i % CLI_EVERY == 0;
            long start = System.nanoTime();
            long earlyKillAt = start + TimeUnit.MILLISECONDS.toNanos(rnd.nextInt(1200));
            Procs server = startServer();
            SecControl ready = awaitReady(server, i, early ? earlyKillAt : Long.MAX_VALUE);
            for (int retry = 0; retry < 3 && ready == null && !server.isAlive()
                    && (!early || System.nanoTime() < earlyKillAt); retry++) {
                server = startServer(); // the port was taken between choosing and binding it
                ready = awaitReady(server, i, early ? earlyKillAt : Long.MAX_VALUE);
            }
            SecControl ctl = ready;
            if (ctl == null) {
                if (!early) {
                    throw new AssertionError("iteration " + i + ": no free port to start on after 4 tries");
                }
                kill(server);
                earlyKills++;
                checkFileShape(i);
                return;
            }
            readyNanos += System.nanoTime() - start;
            readyCount++;
            AtomicReference<String[]> inFlight = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread mutator;
            try (ctl) {
                verify(ctl, i);
                Random opRnd = new Random(rnd.nextLong());
                mutator = Thread.ofPlatform().name("crashloop-mutator").start(() -> mutate(ctl, opRnd, inFlight, failure));
                Thread cliRun = null;
                List<String> cliReported = new ArrayList<>();
                if (cli) {
                    List<String> adds = new ArrayList<>();
                    for (int k = 0; k < 3; k++) {
                        cliSeq++;
                        adds.add("10.9." + (cliSeq / 250) + "." + (cliSeq % 250 + 1));
                    }
                    cliRun = Thread.ofPlatform().name("crashloop-cli").start(() -> {
                        try {
                            cliReported.addAll(runCli(adds));
                        } catch (RuntimeException | AssertionError e) {
                            failure.compareAndSet(null, e);
                        }
                    });
                }
                long killAt = early ? earlyKillAt
                        : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(rnd.nextInt(cli ? 1500 : 300));
                long wait = killAt - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                kill(server);
                mutator.join(Duration.ofSeconds(20));
                if (cliRun != null) {
                    cliRun.join(FixedServer.CONTROL_TIMEOUT.plusSeconds(5));
                    cliAdded.addAll(cliReported); // join() makes the thread's additions visible
                }
                if (mutator.isAlive()) {
                    throw new AssertionError("iteration " + i + ": the control connection did not end after kill -9");
                }
            }
            if (failure.get() != null) {
                throw new AssertionError("iteration " + i + ": " + failure.get().getMessage(), failure.get());
            }
            checkFileShape(i);
            String[] pending = inFlight.get();
            if (pending != null) {
                inFlightAtKill++;
            }
            this.pending = pending;
        }

        /** The change sent but not answered when the server died: {list, address}, or null. */
        private String[] pending;

        /** Changes one random pool address after another until the connection dies with the server. */
        private void mutate(SecControl ctl, Random opRnd, AtomicReference<String[]> inFlight,
                AtomicReference<Throwable> failure) {
            List<String> lists = List.of("tunnel", "client");
            try {
                for (int n = 0; n < 1_000_000; n++) {
                    String list = lists.get(opRnd.nextInt(2));
                    Map<String, Boolean> m = model.get(list);
                    List<String> addrs = new ArrayList<>(m.keySet());
                    String addr = addrs.get(opRnd.nextInt(addrs.size()));
                    boolean add = !m.get(addr);
                    inFlight.set(new String[] {list, addr});
                    SecControl.Reply r = ctl.request((add ? "addip-" : "delip-") + list, addr);
                    if (!r.ok() || !r.lines().equals(List.of("IP: " + addr))) {
                        failure.compareAndSet(null, new AssertionError((add ? "addip-" : "delip-") + list + " " + addr + " answered " + r));
                        return;
                    }
                    m.put(addr, add);
                    inFlight.set(null);
                    acked++;
                }
            } catch (IOException e) {
                // The server was killed: the change in flight (if any) stays in inFlight.
            }
        }

        /** The real CLI adding {@code adds}; returns the addresses it reported ("IP: a") before it ended. */
        private List<String> runCli(List<String> adds) {
            List<String> cmd = new ArrayList<>(List.of(Launchers.fixedRtunnel().toString(), "--socketname=" + socket));
            adds.forEach(a -> cmd.add("--addip-client=" + a));
            Procs.Result r = Procs.runToEnd(cmd, FixedServer.CONTROL_TIMEOUT);
            List<String> reported = new ArrayList<>();
            for (String line : r.stdout().split("\n")) {
                if (line.startsWith("IP: ") && adds.contains(line.substring(4))) {
                    reported.add(line.substring(4));
                }
            }
            if (r.exit() == 0 && reported.size() != adds.size()) {
                throw new AssertionError("the CLI exited 0 but reported " + reported + " of " + adds + ": " + r);
            }
            return reported;
        }

        /** Compares the server's allowlists with every answer received before the last kill. */
        private void verify(SecControl ctl, int iteration) throws IOException {
            for (String list : model.keySet()) {
                Set<String> actual = new HashSet<>(ctl.addresses("list-allowed-" + list + "s"));
                Map<String, Boolean> m = model.get(list);
                for (Map.Entry<String, Boolean> e : m.entrySet()) {
                    boolean present = actual.contains(e.getKey());
                    if (present == e.getValue()) {
                        continue;
                    }
                    if (pending != null && pending[0].equals(list) && pending[1].equals(e.getKey())) {
                        e.setValue(present); // the change in flight at the kill: either outcome is right
                        continue;
                    }
                    throw new AssertionError("after kill " + iteration + " of " + dir.getFileName() + ": " + list + " "
                            + e.getKey() + " should be " + (e.getValue() ? "present" : "absent")
                            + " (reported done before the kill) but is not; loaded state file:\n" + readState()
                            + "\nserver log tail:\n" + tail(dir.resolve("fixed.log")));
                }
                if (list.equals("client")) {
                    for (String a : cliAdded) {
                        if (!actual.contains(a)) {
                            throw new AssertionError("after kill " + iteration + " of " + dir.getFileName()
                                    + ": client " + a + " was reported added by the CLI but is missing; state file:\n"
                                    + readState());
                        }
                    }
                }
                for (String a : actual) {
                    if (!m.containsKey(a) && !(list.equals("client") && a.startsWith("10.9."))) {
                        throw new AssertionError("after kill " + iteration + ": unexpected " + list + " entry " + a);
                    }
                }
            }
            pending = null;
        }

        private Procs startServer() {
            int port = SecFiles.freeListenPort();
            return current = Procs.start(dir, "fixed", List.of(Launchers.fixedRtunnel().toString(), "--debug", "--notroot",
                    "--port=" + port, "--socketname=" + socket, "--keyfile=" + key, "--certfile=" + cert,
                    "--statefile=" + state), Map.of("RTUNNEL_PASSWORD", PASSWORD, "RTUNNEL_JAVA_OPTS", javaOpts));
        }

        /**
         * Polls the control socket until the server answers; null if {@code killAt} (nanoTime)
         * came first. A server that exits by itself (it refused its state file) fails the test.
         */
        private SecControl awaitReady(Procs server, int iteration, long killAt) throws InterruptedException {
            long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
            for (int tries = 0; tries < 10_000; tries++) {
                if (!server.isAlive()) {
                    if (tail(server.log()).contains("Address already in use")) {
                        return null; // someone else took the port: the caller starts again on another
                    }
                    throw new AssertionError("iteration " + iteration + " of " + dir.getFileName()
                            + ": fixed_rtunnel exited by itself at start; state file:\n" + readState()
                            + "\nlog tail:\n" + tail(server.log()));
                }
                if (System.nanoTime() >= killAt) {
                    return null;
                }
                if (System.nanoTime() >= deadline) {
                    throw new AssertionError("iteration " + iteration + ": server not answering after " + READY_TIMEOUT);
                }
                if (Files.exists(socket)) {
                    SecControl c = null;
                    try {
                        c = SecControl.open(socket);
                        if (c.request("lastip-tunnel", null).ok()) {
                            return c;
                        }
                    } catch (IOException e) {
                        // A stale socket file from the last kill, or not listening yet.
                    }
                    if (c != null) {
                        try {
                            c.close();
                        } catch (IOException e) {
                            // Nothing to do.
                        }
                    }
                }
                Thread.sleep(10);
            }
            throw new AssertionError("iteration " + iteration + ": server never answered");
        }

        private void kill(Procs server) {
            ProcessHandle.of(server.pid()).ifPresent(ProcessHandle::destroyForcibly);
            Procs.waitFor(Duration.ofSeconds(10), () -> !server.isAlive(), server + " gone after SIGKILL");
            kills++;
        }

        /** Cheap first check of what the kill left; the next start is the real one. */
        private void checkFileShape(int iteration) {
            if (!Files.exists(state)) {
                if (acked > 0) {
                    throw new AssertionError("after kill " + iteration + " the state file " + state + " is gone");
                }
                return;
            }
            List<String> lines = readState().lines().toList();
            if (lines.isEmpty() || !lines.get(0).equals("# fixed_rtunnel state v1")) {
                throw new AssertionError("after kill " + iteration + " the state file has no header:\n" + readState());
            }
            for (String l : lines) {
                if (!STATE_LINE.matcher(l).matches()) {
                    throw new AssertionError("after kill " + iteration + " the state file has a bad line '" + l + "':\n"
                            + readState());
                }
            }
        }

        private String readState() {
            try {
                return Files.exists(state) ? Files.readString(state) : "(no state file)";
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static String tail(Path log) {
            try {
                List<String> l = Files.readAllLines(log);
                return String.join("\n", l.subList(Math.max(0, l.size() - 30), l.size()));
            } catch (IOException e) {
                return "(cannot read " + log + ")";
            }
        }
    }
}
