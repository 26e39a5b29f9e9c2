import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Section 5: tunnel start, from the command to a banner through the new port, ours beside ssh -R
 * and beside the floor of any JSSE client's start ({@code bench/floor/TlsFloor.java}), and
 * reconnect after the bench cuts the link under a working tunnel; also BENCH_ONLY=5.
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
        List<String> floorCmd = floorCommand();
        floorStart(floorCmd); // its first run after the training: the page cache holds what it maps
        double[] ours = new double[runs];
        double[] sshT = new double[runs];
        double[] floor = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            p = bench.startDynamic("ts", bench.fixedPort);
            Service.connectBanner("127.0.0.1", port, t0 + 30_000_000_000L, 1000).close();
            ours[i] = (System.nanoTime() - t0) / 1e6;
            bench.stopDynamic(p);
            waitRefused(port);
            sshT[i] = bench.ssh.timeToAccept();
            floor[i] = floorStart(floorCmd);
        }
        double o = Bench.median(ours);
        double s = Bench.median(sshT);
        report.target("5", "tunnel start to port accepting: ours v2 vs ssh -R (median)",
                String.format("%.0f vs %.0f ms (runs %s vs %s)", o, s, Bench.fmt(ours), Bench.fmt(sshT)), "≤ ssh -R",
                o <= s);
        report.row("5", "floor: a bare JSSE TLS 1.3 client, fresh JVM" + (Runtime.version().feature() >= 25
                ? " with its own AOT cache" : "") + ", start to its first byte (median)",
                String.format("%.0f ms (runs %s), in the same rounds", Bench.median(floor), Bench.fmt(floor)));
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

    /**
     * The command that runs {@code bench/floor/TlsFloor.java} against a direct TLS server of the
     * bench: compiled here, apart from the bench; on JDK 25 or newer with an ahead-of-time cache
     * trained on one run of it, as our launcher trains one for dynamic_rtunnel's start.
     */
    private List<String> floorCommand() throws Exception {
        Path classes = bench.dir.resolve("floor");
        Files.createDirectories(classes);
        Procs.run(List.of(Bench.jdkTool("javac"), "-d", classes.toString(),
                bench.root.resolve("bench/floor/TlsFloor.java").toString()), 120);
        Path jar = bench.dir.resolve("floor.jar"); // an AOT cache takes classes from jars only
        Procs.run(List.of(Bench.jdkTool("jar"), "--create", "--file", jar.toString(), "-C", classes.toString(),
                "."), 60);
        String port = Integer.toString(Tls.listenEd25519(bench.dir));
        List<String> cmd = new ArrayList<>(List.of(Bench.jdkTool("java"), "-XX:+UseSerialGC"));
        List<String> program = List.of("-cp", jar.toString(), "TlsFloor", port);
        if (Runtime.version().feature() >= 25) {
            Path aot = bench.dir.resolve("floor.aot");
            List<String> train = new ArrayList<>(cmd);
            train.add("-XX:AOTCacheOutput=" + aot);
            train.addAll(program);
            Procs.run(train, 120);
            cmd.addAll(List.of("-XX:AOTCache=" + aot, "-Xlog:aot=off", "-Xlog:cds=off"));
        }
        cmd.addAll(program);
        return cmd;
    }

    /** Milliseconds from starting {@code cmd} to the banner byte it writes to its stdout. */
    private static double floorStart(List<String> cmd) throws Exception {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (InputStream out = p.getInputStream()) {
            if (out.read() != 'B') {
                throw new IOException("no banner from " + String.join(" ", cmd));
            }
            return (System.nanoTime() - t0) / 1e6;
        } finally {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
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
