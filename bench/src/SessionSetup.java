import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Section 4: session setup, user connect to the service's first byte, through plain loopback, ours
 * and ssh -R without delay, then ours and ssh -R over a slow link (20 ms RTT); also BENCH_ONLY=4.
 */
final class SessionSetup extends Bench.Section {
    SessionSetup(Bench bench) {
        super(bench);
    }

    /** User connect to the service's first byte (its banner) through {@code port}, in ns. */
    static long setupNanos(int port) throws Exception {
        long t0 = System.nanoTime();
        Socket s = Service.connectBanner("127.0.0.1", port, t0 + 5_000_000_000L, 5000);
        long t = System.nanoTime() - t0;
        s.close();
        return t;
    }

    /** Connect to first service byte after {@code warm} unmeasured ones, in µs: {p50, p99}. */
    double[] setupTimes(int port, int warm, int n) throws Exception {
        long[] r = new long[n];
        for (int i = -warm; i < n; i++) {
            long t = setupNanos(port);
            if (i >= 0) {
                r[i] = t;
            }
        }
        Arrays.sort(r);
        return new double[] {r[n / 2] / 1e3, r[Math.min(n - 1, (int) (n * 0.99))] / 1e3};
    }

    /**
     * Session setup without delay through plain loopback, ours and ssh -R, in rounds that take the
     * paths in turn as the echo rows do (200 warm-up setups each, then five rounds of 60): p50 and
     * p99 of all a path's setups, in µs, and each round's p50.
     */
    Map<String, double[]> setupRows(Map<String, Integer> ports, List<String> roundsText) throws Exception {
        int rounds = Bench.QUICK ? 3 : 5;
        int per = Bench.QUICK ? 30 : 60;
        List<String> names = new ArrayList<>(ports.keySet());
        for (String n : names) {
            for (int i = 0; i < 200; i++) {
                setupNanos(ports.get(n));
            }
        }
        Map<String, List<Long>> roundP50 = new LinkedHashMap<>();
        Map<String, long[]> all = Rounds.run(names, rounds, per, (n, k) -> {
            long[] t = new long[k];
            for (int i = 0; i < k; i++) {
                t[i] = setupNanos(ports.get(n));
            }
            return t;
        }, roundP50);
        Map<String, double[]> result = new LinkedHashMap<>();
        for (String n : names) {
            long[] t = all.get(n);
            result.put(n, new double[] {t[t.length / 2] / 1e3, t[(int) (t.length * 0.99)] / 1e3});
            roundsText.add(n + " " + Rounds.joined(roundP50.get(n), 1e6, "%.2f"));
        }
        return result;
    }

    /** BENCH_ONLY=4: section 4 alone, after the v2 tunnel is up and warm. */
    void sessionSetupOnly() throws Exception {
        bench.startDynamic("v2", bench.fixedPort);
        bench.v2Port = bench.portOf(bench.fixedSock, "v2", 30_000);
        bench.ssh.startForward("def", List.of());
        Throughput.warmUp(() -> Service.connectBanner(bench.v2Port, 10_000));
        sessionSetup();
    }

    void sessionSetup() throws Exception {
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("plain", bench.servicePort);
        ports.put("ours", bench.v2Port);
        ports.put("ssh", bench.ssh.port("def"));
        List<String> roundsText = new ArrayList<>();
        Map<String, double[]> setup = setupRows(ports, roundsText);
        double[] plain = setup.get("plain");
        double[] ours = setup.get("ours");
        double[] s = setup.get("ssh");
        report.row("4", "session setup, no delay: plain / ours v2 / ssh -R (p50; p99)", String.format(
                "%.2f / %.2f / %.2f ms (%.2f / %.2f / %.2f ms; rounds' p50 %s)", plain[0] / 1e3, ours[0] / 1e3,
                s[0] / 1e3, plain[1] / 1e3, ours[1] / 1e3, s[1] / 1e3, String.join("; ", roundsText)));
        Relay toFixed = new Relay(bench.fixedPort, Bench.ONE_WAY_DELAY_MS);
        Relay toSshd = new Relay(bench.ssh.sshdPort, Bench.ONE_WAY_DELAY_MS);
        bench.startDynamic("dly", toFixed.port());
        int dlyPort = bench.portOf(bench.fixedSock, "dly", 30_000);
        bench.ssh.startForwardVia("dly", toSshd.port());
        int m = Bench.QUICK ? 20 : 50;
        double[] od = setupTimes(dlyPort, 5, m);
        double[] sd = setupTimes(bench.ssh.port("dly"), 5, m);
        double rttMs = 2 * Bench.ONE_WAY_DELAY_MS;
        report.row("4", "session setup over a " + (int) rttMs + " ms RTT link: ours v2 / ssh -R (p50; p99)",
                String.format("%.1f / %.1f ms (%.1f / %.1f ms)", od[0] / 1e3, sd[0] / 1e3, od[1] / 1e3, sd[1] / 1e3));
        // Plain TCP across the link: the handshake (1 RTT) and the service's first byte after the last ACK
        // reaches it (1 RTT) = 2 RTT. Target: at most one RTT more, plus the local cost measured without delay.
        double limit = 3 * rttMs + ours[0] / 1e3;
        report.target("4", "ours v2 over the link, p50 (in link RTTs)",
                String.format("%.1f ms (%.2f RTT)", od[0] / 1e3, (od[0] / 1e3 - ours[0] / 1e3) / rttMs),
                String.format("≤ plain TCP 2 RTT + 1 RTT = %.1f ms", limit), od[0] / 1e3 <= limit);
        report.row("4", "ssh -R over the link, p50 (in link RTTs)",
                String.format("%.1f ms (%.2f RTT)", sd[0] / 1e3, (sd[0] / 1e3 - s[0] / 1e3) / rttMs));
        bench.ssh.stop("dly");
        toFixed.close();
        toSshd.close();
    }
}
