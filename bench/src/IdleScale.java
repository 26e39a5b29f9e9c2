import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sections 6-7 on a server of their own: the control command (--list-tunnels) with 100 tunnels
 * beside a trivial JVM hello, then the server's RSS and heap per idle protocol-v1 tunnel at
 * IDLE_SMALL and IDLE_LARGE tunnels, and a session through the last one; also BENCH_ONLY=6-7.
 */
final class IdleScale extends Bench.Section {
    IdleScale(Bench bench) {
        super(bench);
    }

    void idleScaleAndControl() throws Exception {
        int max = Math.max(Bench.IDLE_SMALL, Bench.IDLE_LARGE) + 200;
        int port = bench.startFixed("b", max);
        String sock = bench.dir.resolve("b.s").toString();
        long pid = bench.fixed.pid();
        Service.sleepMs(1000);
        long rss0 = rssKb(pid);
        long heap0 = heapKb(pid);
        LoadGen gen = new LoadGen(port, Bench.HEX);
        gen.growTo(100, 32);
        // 7. control command with 100 tunnels, next to a trivial JVM hello
        String listed = bench.ctl(sock, "--list-tunnels");
        long lines = listed.lines().filter(l -> l.startsWith("Tunnel:")).count();
        double[] ctlMs = new double[5];
        double[] helloMs = new double[5];
        Path hello = helloClass();
        String java = Bench.jdkTool("java");
        for (int i = -1; i < 5; i++) {
            long t0 = System.nanoTime();
            bench.ctl(sock, "--list-tunnels");
            long t1 = System.nanoTime();
            Procs.run(List.of(java, "-cp", hello.toString(), "Hello"), 30);
            long t2 = System.nanoTime();
            if (i >= 0) {
                ctlMs[i] = (t1 - t0) / 1e6;
                helloMs[i] = (t2 - t1) / 1e6;
            }
        }
        double c = Bench.median(ctlMs);
        double h = Bench.median(helloMs);
        report.row("7", "trivial JVM hello (java -cp DIR Hello), median", String.format("%.0f ms", h));
        report.target("7", "--list-tunnels with " + lines + " tunnels, median", String.format("%.0f ms (%.2f × hello)",
                c, c / h), "≤ 2.5 × hello", c <= 2.5 * h);
        for (int level : new int[] {Bench.IDLE_SMALL, Bench.IDLE_LARGE}) {
            if (level == 0) {
                continue;
            }
            long t0 = System.nanoTime();
            gen.growTo(level, 48);
            double secs = (System.nanoTime() - t0) / 1e9;
            Service.sleepMs(1000);
            long rss = rssKb(pid);
            long heap = heapKb(pid);
            double rssPer = (rss - rss0) / (double) level;
            double heapPer = (heap - heap0) / (double) level;
            report.row("6", level + " idle v1 tunnels: server RSS / heap after GC",
                    String.format("%.0f MB / %.0f MB (before: %.0f / %.0f MB); opened in %.1f s", rss / 1024.0,
                            heap / 1024.0, rss0 / 1024.0, heap0 / 1024.0, secs));
            boolean big = level == Math.max(Bench.IDLE_SMALL, Bench.IDLE_LARGE);
            String perTunnel = String.format("%.1f KB RSS, %.1f KB heap", rssPer, heapPer);
            if (big) {
                report.target("6", "per idle tunnel at " + level, perTunnel, "≤ 64 KB RSS", rssPer <= 64);
            } else {
                report.row("6", "per idle tunnel at " + level, perTunnel);
            }
        }
        int last = gen.size() - 1;
        int lastPort = bench.portOf(sock, LoadGen.hostname(last), 30_000);
        boolean ok;
        try (Socket s = new Socket("127.0.0.1", lastPort)) {
            ok = gen.sawStart(last, 10_000);
        }
        report.target("6", "a session through tunnel number " + (last + 1), ok ? "START received" : "no START",
                "works", ok);
        gen.closeAll();
        bench.procs.stop(bench.fixed);
    }

    Path helloClass() throws Exception {
        Path d = bench.dir.resolve("hello");
        Files.createDirectories(d);
        Files.writeString(d.resolve("Hello.java"),
                "public class Hello { public static void main(String[] a) { System.out.println(\"hello\"); } }\n");
        String javac = Bench.jdkTool("javac");
        Procs.run(List.of(javac, "-d", d.toString(), d.resolve("Hello.java").toString()), 60);
        return d;
    }

    static long rssKb(long pid) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS for " + pid);
    }

    /** Heap in use after a full GC (jcmd GC.run, GC.heap_info), in KB. */
    static long heapKb(long pid) throws Exception {
        String jcmd = Bench.jdkTool("jcmd");
        Procs.run(List.of(jcmd, Long.toString(pid), "GC.run"), 60);
        String out = Procs.run(List.of(jcmd, Long.toString(pid), "GC.heap_info"), 60);
        long sum = 0;
        Matcher m = Pattern.compile("(?m)^\\s*(?:DefNew|Tenured|def new generation|tenured generation)\\s+total \\d+K, used (\\d+)K").matcher(out);
        while (m.find()) {
            sum += Long.parseLong(m.group(1));
        }
        if (sum == 0) {
            throw new IOException("could not read heap use from jcmd: " + out);
        }
        return sum;
    }
}
