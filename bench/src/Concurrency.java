import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Section 3: 64 sessions at once over one v2 tunnel and over eight, held against one session's
 * download in the same rounds, and the same 64 sessions over one plain relay hop beside that
 * hop's own single session; also BENCH_ONLY=3.
 */
final class Concurrency extends Bench.Section {
    Concurrency(Bench bench) {
        super(bench);
    }

    /** 64 sessions at once; returns {aggregate MB/s, min per-session MB/s}. */
    double[] concurrent(int[] ports, long each) throws Exception {
        int n = 64;
        double[] rate = new double[n];
        long[] start = new long[n];
        long[] end = new long[n];
        Exception[] err = new Exception[1];
        Socket[] socks = new Socket[n];
        for (int i = 0; i < n; i++) {
            socks[i] = Service.connectBanner(ports[i % ports.length], 10_000);
        }
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            Thread t = new Thread(() -> {
                try (Socket s = socks[k]) {
                    go.await();
                    start[k] = System.nanoTime();
                    Service.download(s, each);
                    end[k] = System.nanoTime();
                    rate[k] = each / 1e6 / ((end[k] - start[k]) / 1e9);
                } catch (Exception e) {
                    err[0] = e;
                }
            });
            t.start();
            ts.add(t);
        }
        go.countDown();
        for (Thread t : ts) {
            t.join();
        }
        if (err[0] != null) {
            throw err[0];
        }
        long t0 = Arrays.stream(start).min().orElseThrow();
        long t1 = Arrays.stream(end).max().orElseThrow();
        return new double[] {n * each / 1e6 / ((t1 - t0) / 1e9), Arrays.stream(rate).min().orElseThrow()};
    }

    /**
     * Rounds of 64 sessions over {@code ports} for {@code warmNanos} (one round at least, 60 at
     * most): every JVM on the path gets its JIT done, which for eight fresh dynamic_rtunnels, each
     * with an eighth of the traffic, takes about eight times the traffic one needs (BENCH_ONLY=3
     * here: 357 MB/s in the first round, ~570 after ten).
     */
    void warmConcurrent(String name, int[] ports, long warmNanos) throws Exception {
        long end = System.nanoTime() + warmNanos;
        double[] warm = concurrent(ports, Bench.CONC_SIZE);
        int rounds = 1;
        for (; rounds < 60 && System.nanoTime() < end; rounds++) {
            warm = concurrent(ports, Bench.CONC_SIZE);
        }
        System.out.printf("   %s: %d warm-up rounds, the last %.0f MB/s%n", name, rounds, warm[0]);
    }

    /** The median round's {aggregate MB/s, min per-session MB/s} of 64 sessions over {@code ports}. */
    double[] concurrentMedian(String name, int[] ports, long warmNanos) throws Exception {
        warmConcurrent(name, ports, warmNanos);
        double[][] runs = new double[Bench.RUNS][];
        for (int i = 0; i < Bench.RUNS; i++) {
            runs[i] = concurrent(ports, Bench.CONC_SIZE);
            System.out.printf("   %s: run %d %.0f MB/s%n", name, i + 1, runs[i][0]);
        }
        return medianRun(runs);
    }

    static double[] medianRun(double[][] runs) {
        double[][] c = runs.clone();
        Arrays.sort(c, (a, b) -> Double.compare(a[0], b[0]));
        return c[c.length / 2];
    }

    /** The rows of 64 sessions over {@code name}, against one session's download in the same rounds. */
    void concurrencyRow(String name, double[][] runs, double[] singles) {
        double[] r = medianRun(runs);
        double single = Bench.median(singles);
        double fair = r[0] / 64;
        double[] agg = new double[runs.length];
        for (int i = 0; i < runs.length; i++) {
            agg[i] = runs[i][0];
        }
        report.row("3", "64 sessions over " + name + ": aggregate / min session (down)",
                String.format("%.0f / %.1f MB/s (fair share %.1f; rounds %s)", r[0], r[1], fair, Bench.fmt(agg)));
        report.target("3", name + ": aggregate vs single session",
                String.format("%.0f vs %.0f MB/s (single session in the same rounds: %s)", r[0], single,
                        Bench.fmt(singles)),
                "≥ single", r[0] >= single);
        report.target("3", name + ": min session / fair share", String.format("%.2f", r[1] / fair), "≥ 0.25",
                r[1] / fair >= 0.25);
    }

    /**
     * The same 64 sessions through one plain relay hop (the bench's blocking relay, no TLS, no
     * framing) beside that hop's own single session: what 64 parallel flows cost on this machine
     * before any tunnel is involved.
     */
    void plainConcurrencyRow() throws Exception {
        Relay hop = new Relay(bench.servicePort, 0);
        Bench.Opener o = () -> Service.connectBanner(hop.port(), 5000);
        Throughput.warmUp(o);
        double single = Throughput.transfer(o, true, Bench.SIZE);
        double[] r = concurrentMedian("plain relay hop", new int[] {hop.port()}, Bench.WARM_NANOS / 4);
        report.row("3", "64 sessions over 1 plain relay hop: aggregate vs its single session (down)",
                String.format("%.0f vs %.0f MB/s (%.2f)", r[0], single, r[0] / single));
        hop.close();
    }

    /** BENCH_ONLY=3: section 3 alone, after the v2 tunnel is up and warm. */
    void concurrencyOnly() throws Exception {
        bench.startDynamic("v2", bench.fixedPort);
        bench.v2Port = bench.portOf(bench.fixedSock, "v2", 30_000);
        bench.awaitTrainings();
        Throughput.warmUp(() -> Service.connectBanner(bench.v2Port, 10_000));
        concurrency();
    }

    /**
     * 64 sessions over one tunnel and over eight, each warmed up, then RUNS rounds in which one
     * session's download through the v2 tunnel, the 64 over one tunnel and the 64 over eight take
     * turns (each round starting one further on): the aggregates are held against a single session
     * of the same minutes, as section 1 holds ours against ssh -R.
     */
    void concurrency() throws Exception {
        plainConcurrencyRow();
        int[] one = {bench.v2Port};
        warmConcurrent("1 tunnel", one, Bench.WARM_NANOS);
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= 8; i++) {
            names.add("c" + i);
            bench.startDynamic("c" + i, bench.fixedPort, "--source-ip=127.0.2." + i);
        }
        int[] eight = new int[8];
        for (int i = 0; i < 8; i++) {
            eight[i] = bench.portOf(bench.fixedSock, names.get(i), 30_000);
        }
        bench.awaitTrainings();
        warmConcurrent("8 tunnels", eight, 3 * Bench.WARM_NANOS);
        double[] singles = new double[Bench.RUNS];
        double[][] oneRuns = new double[Bench.RUNS][];
        double[][] eightRuns = new double[Bench.RUNS][];
        MachineCpu[] cpu = {new MachineCpu(), new MachineCpu(), new MachineCpu()};
        for (int r = 0; r < Bench.RUNS; r++) {
            for (int k = 0; k < 3; k++) {
                int kind = (r + k) % 3;
                cpu[kind].begin();
                switch (kind) {
                    case 0 -> {
                        singles[r] = Throughput.once(() -> Service.connectBanner(bench.v2Port, 10_000), true,
                                Bench.SIZE);
                        System.out.printf("   single session: run %d %.0f MB/s%n", r + 1, singles[r]);
                    }
                    case 1 -> {
                        oneRuns[r] = concurrent(one, Bench.CONC_SIZE);
                        System.out.printf("   1 tunnel: run %d %.0f MB/s%n", r + 1, oneRuns[r][0]);
                    }
                    default -> {
                        eightRuns[r] = concurrent(eight, Bench.CONC_SIZE);
                        System.out.printf("   8 tunnels: run %d %.0f MB/s%n", r + 1, eightRuns[r][0]);
                    }
                }
                cpu[kind].end(kind == 0 ? Bench.SIZE : 64 * Bench.CONC_SIZE);
            }
        }
        concurrencyRow("1 tunnel", oneRuns, singles);
        concurrencyRow("8 tunnels", eightRuns, singles);
        report.row("3", "machine CPU in those rounds (all processes): single session / 64 over 1 tunnel / 64 over 8",
                cpu[0].text() + " / " + cpu[1].text() + " / " + cpu[2].text());
    }
}
