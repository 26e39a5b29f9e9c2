import java.io.IOException;
import java.net.Socket;

/**
 * Section 5: tunnel start, from the command to a banner through the new port, ours beside ssh -R,
 * and reconnect after the bench cuts the link under a working tunnel; also BENCH_ONLY=5.
 */
final class TunnelSetup extends Bench.Section {
    TunnelSetup(Bench bench) {
        super(bench);
    }

    void tunnelSetup() throws Exception {
        // Starts move by a tenth from one to the next on a shared machine: seven of each,
        // alternating, so a noisy moment weighs on both sides.
        int runs = Bench.QUICK ? 3 : 7;
        // ours: the hostname's sticky port comes back when free, so the port is known before start.
        Process p = bench.startDynamic("ts", bench.fixedPort);
        int port = bench.portOf(bench.fixedSock, "ts", 30_000);
        bench.stopDynamic(p);
        waitRefused(port);
        double[] ours = new double[runs];
        double[] sshT = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            p = bench.startDynamic("ts", bench.fixedPort);
            Service.connectBanner("127.0.0.1", port, t0 + 30_000_000_000L, 1000).close();
            ours[i] = (System.nanoTime() - t0) / 1e6;
            bench.stopDynamic(p);
            waitRefused(port);
            sshT[i] = bench.ssh.timeToAccept();
        }
        double o = Bench.median(ours);
        double s = Bench.median(sshT);
        report.target("5", "tunnel start to port accepting: ours v2 vs ssh -R (median)",
                String.format("%.0f vs %.0f ms (runs %s vs %s)", o, s, Bench.fmt(ours), Bench.fmt(sshT)), "≤ ssh -R",
                o <= s);
        // reconnect: the dynamic side dials through a relay whose connections the bench cuts.
        Relay link = new Relay(bench.fixedPort, 0);
        bench.startDynamic("rc", link.port());
        int rcPort = bench.portOf(bench.fixedSock, "rc", 30_000);
        Service.connectBanner(rcPort, 10_000).close();
        double[] rc = new double[runs];
        for (int i = 0; i < runs; i++) {
            Service.sleepMs(2000); // the link counts as healthy: no back-off is due
            link.killAll();
            long t0 = System.nanoTime();
            Service.connectBanner("127.0.0.1", rcPort, t0 + 60_000_000_000L, 250).close();
            rc[i] = (System.nanoTime() - t0) / 1e6;
        }
        double r = Bench.median(rc);
        report.target("5", "reconnect after a link drop to a working session (median)",
                String.format("%.0f ms (runs %s)", r, Bench.fmt(rc)), "≤ 1000 ms (no back-off after a healthy link)",
                r <= 1000);
        link.close();
    }

    static void waitRefused(int port) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                Service.sleepMs(20);
            } catch (IOException e) {
                return;
            }
        }
    }
}
