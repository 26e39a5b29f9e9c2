import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Section 1: single-session throughput each way through ours (v2, v1), ssh -R, direct TLS and
 * plain TCP, the paths taking turns in rounds after a warm-up, and ours' ratios to the others;
 * also BENCH_ONLY=probe.
 */
final class Throughput extends Bench.Section {
    /** Every round's MB/s of each path of section 1: {down rounds, up rounds}. */
    final Map<String, double[][]> throughputRounds = new LinkedHashMap<>();

    Throughput(Bench bench) {
        super(bench);
    }

    /** Median MB/s over RUNS sessions; down = service to user. */
    static double transfer(Bench.Opener o, boolean down, long size) throws Exception {
        double[] r = new double[Bench.RUNS];
        for (int i = 0; i < Bench.RUNS; i++) {
            r[i] = once(o, down, size);
        }
        return Bench.median(r);
    }

    /** MB/s of one session moving {@code size} bytes; down = service to user. */
    static double once(Bench.Opener o, boolean down, long size) throws Exception {
        try (Socket s = o.open()) {
            return size / 1e6 / (down ? Service.download(s, size) : Service.upload(s, size));
        }
    }

    /**
     * Before a row: sessions both ways until WARM_NANOS have passed (two at least, 40 at most).
     * A daemon's JIT goes on compiling the data path for ~10 s of traffic after its start
     * (-Xlog:jit+compilation: SSLSocketOutputRecord.deliver, GCM's doFinal reach C2 8-10 s in),
     * and the rows measure the long-running daemon, not its first gigabytes.
     */
    static void warmUp(Bench.Opener o) throws Exception {
        long end = System.nanoTime() + Bench.WARM_NANOS;
        for (int i = 0; i < 40 && (i < 2 || System.nanoTime() < end); i++) {
            try (Socket s = o.open()) {
                if (i % 2 == 0) {
                    Service.download(s, Bench.SIZE / 2);
                } else {
                    Service.upload(s, Bench.SIZE / 2);
                }
            }
        }
    }

    /** {@code a}'s median over {@code b}'s, then in brackets each round's ratio of the two paths. */
    String ratioText(String a, String b, int way) {
        double[] x = throughputRounds.get(a)[way];
        double[] y = throughputRounds.get(b)[way];
        List<String> r = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            r.add(String.format("%.2f", x[i] / y[i]));
        }
        double m = report.throughput.get(a)[way] / report.throughput.get(b)[way];
        return String.format("%.2f (rounds %s)", m, String.join(", ", r));
    }

    void throughputRow(String name, Bench.Opener o) throws Exception {
        throughputRows(Map.of(name, o));
    }

    /**
     * A row per path: each path warmed up in turn, then RUNS rounds in which the paths take turns
     * (each round starting one path further on), a download and an upload each. Ours, ssh -R and
     * direct TLS so share the same minutes of a machine whose speed drifts by a fifth from one
     * minute to another, as the echo and setup rows do. Median MB/s each way, and every round's.
     */
    void throughputRows(Map<String, Bench.Opener> paths) throws Exception {
        List<String> names = new ArrayList<>(paths.keySet());
        for (Bench.Opener o : paths.values()) {
            warmUp(o);
        }
        Map<String, double[][]> got = new LinkedHashMap<>();
        for (String n : names) {
            got.put(n, new double[2][Bench.RUNS]);
        }
        for (int r = 0; r < Bench.RUNS; r++) {
            for (int k = 0; k < names.size(); k++) {
                String n = names.get((r + k) % names.size());
                for (int way = 0; way < 2; way++) {
                    got.get(n)[way][r] = once(paths.get(n), way == 0, Bench.SIZE);
                }
            }
        }
        throughputRounds.putAll(got);
        for (String n : names) {
            double[][] g = got.get(n);
            double d = Bench.median(g[0]);
            double u = Bench.median(g[1]);
            report.throughput.put(n, new double[] {d, u});
            report.row("1", "throughput " + n + " (down / up)",
                    String.format("%.0f / %.0f MB/s (rounds %s / %s)", d, u, Bench.fmt(g[0]), Bench.fmt(g[1])));
        }
    }

    void throughput() throws Exception {
        bench.startDynamic("v2", bench.fixedPort);
        bench.startDynamic("v1", bench.fixedPort, "--protocol=1");
        bench.v2Port = bench.portOf(bench.fixedSock, "v2", 30_000);
        bench.v1Port = bench.portOf(bench.fixedSock, "v1", 30_000);
        int tlsPort = Tls.listen(bench.dir);
        Relay hop = new Relay(bench.servicePort, 0);
        bench.ssh.startForward("def", List.of());
        bench.ssh.startForward("gcm", List.of("-c", "aes128-gcm@openssh.com"));
        bench.awaitTrainings(); // the dynamic_rtunnels' and the control commands' first starts
        Map<String, Bench.Opener> paths = new LinkedHashMap<>();
        paths.put("plain TCP loopback", () -> Service.connectBanner(bench.servicePort, 5000));
        paths.put("plain TCP, 1 relay hop", () -> Service.connectBanner(hop.port(), 5000));
        paths.put("direct JSSE TLS 1.3 AES-128-GCM", () -> Tls.connect(tlsPort));
        paths.put("ours v2", () -> Service.connectBanner(bench.v2Port, 10_000));
        paths.put("ours v1", () -> Service.connectBanner(bench.v1Port, 20_000));
        paths.put("ssh -R defaults", () -> Service.connectBanner(bench.ssh.port("def"), 5000));
        paths.put("ssh -R aes128-gcm", () -> Service.connectBanner(bench.ssh.port("gcm"), 5000));
        throughputRows(paths);
        hop.close();
        double[] ours = report.throughput.get("ours v2");
        double[] sshd = report.throughput.get("ssh -R defaults");
        double[] tls = report.throughput.get("direct JSSE TLS 1.3 AES-128-GCM");
        double[] v1 = report.throughput.get("ours v1");
        for (int k = 0; k < 2; k++) {
            String dirn = k == 0 ? "down" : "up";
            // The verdict is the ratio of the medians; each round's ratio is there to read beside it.
            report.target("1", "ours v2 / ssh -R defaults, " + dirn, ratioText("ours v2", "ssh -R defaults", k),
                    "≥ 1.5", ours[k] / sshd[k] >= 1.5);
            report.target("1", "ours v2 / direct TLS, " + dirn,
                    ratioText("ours v2", "direct JSSE TLS 1.3 AES-128-GCM", k), "≥ 0.6", ours[k] / tls[k] >= 0.6);
            report.target("1", "ours v1 / ssh -R defaults, " + dirn, ratioText("ours v1", "ssh -R defaults", k),
                    "≥ 1.5", v1[k] / sshd[k] >= 1.5);
            report.row("1", "ours v2 / ssh -R aes128-gcm, " + dirn, ratioText("ours v2", "ssh -R aes128-gcm", k));
        }
    }

    /** BENCH_ONLY=probe: ours v2 and v1 throughput and echo only, a quick loop while looking for causes. */
    void probe() throws Exception {
        bench.startDynamic("v2", bench.fixedPort);
        bench.startDynamic("v1", bench.fixedPort, "--protocol=1");
        bench.v2Port = bench.portOf(bench.fixedSock, "v2", 30_000);
        bench.v1Port = bench.portOf(bench.fixedSock, "v1", 30_000);
        bench.awaitTrainings();
        throughputRow("ours v2", () -> Service.connectBanner(bench.v2Port, 10_000));
        if (System.getenv("BENCH_V2") != null) {
            return;
        }
        throughputRow("ours v1", () -> Service.connectBanner(bench.v1Port, 20_000));
        bench.ssh.startForward("def", List.of());
        Map<String, Bench.Opener> paths = new LinkedHashMap<>();
        paths.put("plain loopback", () -> Service.connectBanner(bench.servicePort, 5000));
        paths.put("ours v2", () -> Service.connectBanner(bench.v2Port, 10_000));
        paths.put("ours v1", () -> Service.connectBanner(bench.v1Port, 20_000));
        paths.put("ssh -R defaults", () -> Service.connectBanner(bench.ssh.port("def"), 5000));
        bench.echoRows(paths);
        throughputRow("ssh -R defaults", () -> Service.connectBanner(bench.ssh.port("def"), 5000));
    }
}
