import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * `make bench`: ours beside ssh -R, plain TCP and direct TLS on loopback (issue 6). Starts every
 * process itself with free ports and stops each by pid. BENCH_QUICK=1 for a smaller run. Section 2
 * is here (the probe uses its echo rows too); the others are classes of their own: {@link Throughput}
 * (1), {@link Concurrency} (3), {@link SessionSetup} (4), {@link TunnelSetup} (5), {@link IdleScale}
 * (6-7).
 */
public final class Bench {
    static final boolean QUICK = "1".equals(System.getenv("BENCH_QUICK"));
    static final String HEX = "0123456789abcdef"; // 16 digits: usable by v1 and v2
    static final long SIZE = System.getenv("BENCH_MB") != null ? Long.parseLong(System.getenv("BENCH_MB")) * 1_000_000L
            : QUICK ? 100_000_000L : 1_000_000_000L;
    static final int RUNS = 3;
    static final long WARM_NANOS = (QUICK ? 2L : 8L) * 1_000_000_000L;
    static final long CONC_SIZE = QUICK ? 4_000_000L : 16_000_000L;
    static final int ONE_WAY_DELAY_MS = 10; // a 20 ms round-trip link
    static final int IDLE_SMALL = QUICK ? 500 : 1000;
    static final int IDLE_LARGE = QUICK ? 0 : 5000;

    final Path root = Path.of("").toAbsolutePath();
    final Path dir;
    final Procs procs;
    final Report report = new Report();
    int servicePort;
    String fixedSock;
    int fixedPort;
    Process fixed;
    final List<Process> dynamics = new ArrayList<>();
    Ssh ssh;
    int v2Port; // ours v2 and v1 tunnels: started by section 1 (or a part run), used by sections 2-4
    int v1Port;

    Bench() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "rtb");
        procs = new Procs(dir);
    }

    public static void main(String[] args) throws Exception {
        // What the bench runs beside ours; missing, it says so before writing any results.
        for (String tool : List.of("/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen")) {
            if (!Files.isExecutable(Path.of(tool))) {
                System.err.println("bench: " + tool + " is missing (the ssh -R rows need OpenSSH: "
                        + "apt-get install -y openssh-server openssh-client)");
                System.exit(2);
            }
        }
        Bench b = new Bench();
        long t0 = System.nanoTime();
        try {
            b.runAll();
        } finally {
            b.procs.stopAll();
            b.finish((System.nanoTime() - t0) / 1e9);
        }
        System.exit(0);
    }

    void runAll() throws Exception {
        System.out.println("bench: " + (QUICK ? "QUICK " : "") + "run, temp dir " + dir + ", JDK "
                + System.getProperty("java.version"));
        servicePort = Service.listen();
        String only = System.getenv("BENCH_ONLY");
        if ("probe".equals(only) || "2".equals(only) || "3".equals(only) || "4".equals(only) || "5".equals(only)) {
            // parts only, for finding causes
            fixedPort = startFixed("a", 100);
            fixedSock = dir.resolve("a.s").toString();
            ssh = new Ssh(this);
            ssh.startSshd();
            section(only, "5".equals(only) ? new TunnelSetup(this)::tunnelSetup
                    : "3".equals(only) ? new Concurrency(this)::concurrencyOnly
                    : "4".equals(only) ? new SessionSetup(this)::sessionSetupOnly
                    : "2".equals(only) ? this::latencyOnly : new Throughput(this)::probe);
            return;
        }
        if ("6-7".equals(System.getenv("BENCH_ONLY"))) { // only idle scale and control (re-runs)
            section("6-7", new IdleScale(this)::idleScaleAndControl);
            return;
        }
        fixedPort = startFixed("a", 100);
        fixedSock = dir.resolve("a.s").toString();
        ssh = new Ssh(this);
        ssh.startSshd();
        section("1", new Throughput(this)::throughput);
        section("2", this::latency);
        section("3", new Concurrency(this)::concurrency);
        section("4", new SessionSetup(this)::sessionSetup);
        section("5", new TunnelSetup(this)::tunnelSetup);
        stopAllChildren();
        section("6-7", new IdleScale(this)::idleScaleAndControl);
    }

    interface Step {
        void run() throws Exception;
    }

    /** A new session through one path, its banner read (sections 1-3). */
    interface Opener {
        Socket open() throws Exception;
    }

    /** A section in a class of its own: the bench it runs in, and the report it writes its rows to. */
    abstract static class Section {
        final Bench bench;
        final Report report;

        Section(Bench bench) {
            this.bench = bench;
            this.report = bench.report;
        }
    }

    void section(String name, Step s) {
        long t0 = System.nanoTime();
        System.out.println("== section " + name);
        try {
            awaitTrainings();
            s.run();
        } catch (Throwable e) {
            e.printStackTrace();
            report.error(name, e);
        }
        System.out.printf("   (%.1f s)%n", (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The first starts of a new build train its class archives in the background (the launchers:
     * a training JVM each, seconds of CPU); measuring beside them measured them too (plain TCP
     * once read 1873 MB/s, ~3000 without them). Waits, at most three minutes, until no training
     * holds its lock directory in the launchers' cache.
     */
    void awaitTrainings() throws InterruptedException {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = (xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
                .resolve("rtunnel");
        long t0 = System.nanoTime();
        long deadline = t0 + 180_000_000_000L;
        while (training(cache) && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        long waited = (System.nanoTime() - t0) / 1_000_000;
        if (waited >= 200) {
            System.out.printf("   waited %d ms for the launchers' archive trainings%n", waited);
        }
    }

    private static boolean training(Path cache) {
        try (var entries = Files.list(cache)) {
            return entries.anyMatch(e -> e.getFileName().toString().endsWith(".lock"));
        } catch (IOException e) {
            return false; // no cache directory: nothing is training
        }
    }

    // ---------------------------------------------------------------- processes

    /** Starts fixed_rtunnel NAME on a free port and allows 127.0.0.0/8 tunnels and 127.0.0.1 clients. */
    int startFixed(String name, int maxTunnels) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return tryStartFixed(name, maxTunnels);
            } catch (IOException e) {
                if (attempt == 3) { // a free port can be taken by someone else before the server binds it
                    throw e;
                }
                procs.stop(fixed);
            }
        }
    }

    int tryStartFixed(String name, int maxTunnels) throws Exception {
        int port = freePort();
        String sock = dir.resolve(name + ".s").toString();
        fixed = procs.start("fixed-" + name, List.of(root.resolve("fixed_rtunnel").toString(), "--notroot",
                "--foreground", "--port=" + port, "--socketname=" + sock, "--keyfile=" + dir.resolve(name + ".k"),
                "--certfile=" + dir.resolve(name + ".c"), "--statefile=none", "--password=" + HEX,
                "--log-level=warn", "--maxtunnels=" + maxTunnels));
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(Path.of(sock))) {
            if (!fixed.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("fixed_rtunnel did not start; see " + dir + "/fixed-" + name + "-*.log");
            }
            Service.sleepMs(20);
        }
        ctl(sock, "--addip-tunnel=127.0.0.0/8", "--addip-client=127.0.0.1");
        return port;
    }

    String ctl(String sock, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(root.resolve("fixed_rtunnel").toString(), "--socketname=" + sock));
        cmd.addAll(Arrays.asList(args));
        return Procs.run(cmd, 60);
    }

    Process startDynamic(String host, int remotePort, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(root.resolve("dynamic_rtunnel").toString(), "--notroot",
                "--foreground", "--remoteip=127.0.0.1", "--remoteport=" + remotePort, "--localport=" + servicePort,
                "--password=" + HEX, "--insecure", "--hostname=" + host, "--log-level=warn", "--alarm=0"));
        cmd.addAll(Arrays.asList(extra));
        Process p = procs.start("dynamic-" + host, cmd);
        dynamics.add(p);
        return p;
    }

    /** The port of tunnel HOST on the main server, waiting for it to appear. */
    int portOf(String sock, String host, long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                return Integer.parseInt(ctl(sock, "--port-of=" + host).strip());
            } catch (Exception e) {
                last = e;
                Service.sleepMs(100);
            }
        }
        throw new IOException("tunnel " + host + " did not appear: " + last, last);
    }

    void stopAllChildren() {
        for (Process p : dynamics) {
            procs.stop(p);
        }
        dynamics.clear();
        if (ssh != null) {
            ssh.stopAll();
        }
        procs.stop(fixed);
    }

    void stopDynamic(Process p) {
        procs.stop(p);
        dynamics.remove(p);
    }

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    // ---------------------------------------------------------------- 2. latency

    /**
     * 1-byte echoes through every path, in rounds that take the paths in turn (each round starts
     * one path further on), so that each path sees the same minutes of a machine whose speed drifts
     * (on the bench host the same path's p50 moved 84-125 µs within an hour): one warm-up
     * connection each, then {@code ROUNDS} connections of {@code per} echoes each. p50 and p99 are
     * of all a path's echoes; each round's p50 is listed too.
     */
    Map<String, double[]> echoRows(Map<String, Opener> paths) throws Exception {
        int warm = QUICK ? 2000 : 5000;
        int rounds = QUICK ? 3 : 5;
        int per = QUICK ? 2000 : 4000;
        List<String> names = new ArrayList<>(paths.keySet());
        for (String n : names) {
            try (Socket s = paths.get(n).open()) {
                Service.echo(s, warm);
            }
        }
        Map<String, List<Long>> roundP50 = new LinkedHashMap<>();
        Map<String, long[]> all = Rounds.run(names, rounds, per, (n, k) -> {
            try (Socket s = paths.get(n).open()) {
                return Service.echo(s, k);
            }
        }, roundP50);
        Map<String, double[]> result = new LinkedHashMap<>();
        for (String n : names) {
            long[] r = all.get(n);
            double p50 = r[r.length / 2] / 1e3;
            double p99 = r[(int) (r.length * 0.99)] / 1e3;
            report.rtt.put(n, new double[] {p50, p99});
            report.row("2", "1-byte echo RTT " + n + " p50 / p99", String.format("%.0f / %.0f µs (rounds' p50 %s)",
                    p50, p99, Rounds.joined(roundP50.get(n), 1e3, "%.0f")));
            result.put(n, new double[] {p50, p99});
        }
        return result;
    }

    /** BENCH_ONLY=2: section 2 alone, after both tunnels are up. */
    void latencyOnly() throws Exception {
        startDynamic("v2", fixedPort);
        startDynamic("v1", fixedPort, "--protocol=1");
        v2Port = portOf(fixedSock, "v2", 30_000);
        v1Port = portOf(fixedSock, "v1", 30_000);
        ssh.startForward("def", List.of());
        Throughput.warmUp(() -> Service.connectBanner(v2Port, 10_000)); // as section 1 leaves the daemons
        Throughput.warmUp(() -> Service.connectBanner(v1Port, 20_000));
        latency();
    }

    void latency() throws Exception {
        // Two relays with no TLS and no framing (plain blocking copies): six kernel hand-offs per
        // round trip where plain loopback has two. As threads of this process, and as two processes
        // of their own, which is what a tunnel's two sides are: the floor of any tunnel here.
        Relay hop1 = new Relay(servicePort, 0);
        Relay hop2 = new Relay(hop1.port(), 0);
        int[] procPorts = {freePort(), freePort()};
        List<Process> relays = List.of(startRelayProcess(procPorts[0], servicePort),
                startRelayProcess(procPorts[1], procPorts[0]));
        Map<String, Opener> paths = new LinkedHashMap<>();
        paths.put("plain loopback", () -> Service.connectBanner(servicePort, 5000));
        paths.put("plain TCP, 2 relay hops", () -> Service.connectBanner(hop2.port(), 5000));
        paths.put("plain TCP, 2 relay processes", () -> Service.connectBanner(procPorts[1], 30_000));
        paths.put("ours v2", () -> Service.connectBanner(v2Port, 10_000));
        paths.put("ours v1", () -> Service.connectBanner(v1Port, 20_000));
        paths.put("ssh -R defaults", () -> Service.connectBanner(ssh.port("def"), 5000));
        Map<String, double[]> rtt = echoRows(paths);
        hop2.close();
        hop1.close();
        relays.forEach(procs::stop);
        double[] plain = rtt.get("plain loopback");
        double[] ours = rtt.get("ours v2");
        double[] s = rtt.get("ssh -R defaults");
        report.row("2", "floor: 2 relay processes p50 / plain loopback p50",
                String.format("%.2f", rtt.get("plain TCP, 2 relay processes")[0] / plain[0]));
        report.target("2", "ours v2 p50 vs ssh -R p50", String.format("%.0f vs %.0f µs", ours[0], s[0]),
                "≤ ssh -R", ours[0] <= s[0]);
        report.target("2", "ours v2 p50 / plain loopback p50", String.format("%.2f", ours[0] / plain[0]), "< 3",
                ours[0] / plain[0] < 3);
    }

    /** A {@link RelayProcess} from {@code listenPort} to {@code targetPort}, run from this bench's sources. */
    Process startRelayProcess(int listenPort, int targetPort) throws IOException {
        return procs.start("relay-" + listenPort, List.of(jdkTool("java"), "-XX:+UseSerialGC",
                root.resolve("bench/src/RelayProcess.java").toString(), Integer.toString(listenPort),
                Integer.toString(targetPort)));
    }

    /** A program of the JDK the bench runs on: java, javac, jar, jcmd, keytool. */
    static String jdkTool(String name) {
        return Path.of(System.getProperty("java.home"), "bin", name).toString();
    }

    // ---------------------------------------------------------------- report

    static double median(double[] a) {
        double[] c = a.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }

    static String fmt(double[] a) {
        StringBuilder sb = new StringBuilder();
        for (double d : a) {
            sb.append(sb.isEmpty() ? "" : ", ").append(Math.round(d));
        }
        return sb.toString();
    }

    void finish(double seconds) throws IOException {
        String cpu = "";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("");
        } catch (IOException e) {
            // not Linux
        }
        String header = "# make bench: results\n\n" + ZonedDateTime.now().withNano(0) + ", "
                + (QUICK ? "BENCH_QUICK=1 (" : "full run (") + SIZE / 1_000_000 + " MB per transfer, medians of "
                + RUNS + " (section 1: in rounds that alternate the paths) after " + WARM_NANOS / 1_000_000_000L + " s of warm-up both ways), " + Runtime.getRuntime().availableProcessors() + " cores, " + cpu
                + ", JDK " + System.getProperty("java.version") + ", loopback, "
                + String.format("%.0f s in all.", seconds) + " Others may share the machine: only ratios within "
                + "one run mean much. Down = service to user, up = user to service.\n";
        Path bench = root.resolve("bench");
        String base = System.getenv("BENCH_ONLY") == null ? "results" : "results-only";
        report.write(bench.resolve(base + ".md"), bench.resolve(base + ".png"), header);
        System.out.println("wrote " + bench.resolve(base + ".md") + " and " + bench.resolve(base + ".png"));
    }
}
