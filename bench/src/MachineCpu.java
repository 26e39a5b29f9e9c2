import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The whole machine's CPU from {@code /proc/stat} across some transfers: how busy its cores were
 * and how much CPU time (every process: ours, the bench's clients and service, the kernel) each
 * gigabyte took. Section 3 shows it for a single session and for 64: on two cores that one session
 * already keeps busy, 64 sessions can only move more if each byte costs less.
 */
final class MachineCpu {
    /** /proc/stat counts in USER_HZ, 100 per second on Linux. */
    private static final double JIFFY_MS = 10;

    private long busy;
    private long total;
    private long bytes;
    private long[] start;

    /** Before a transfer. */
    void begin() throws IOException {
        start = sample();
    }

    /** After it: {@code n} bytes moved since {@link #begin()}. */
    void end(long n) throws IOException {
        long[] now = sample();
        busy += now[0] - start[0];
        total += now[1] - start[1];
        bytes += n;
    }

    /** "busy %, CPU s per GB" over every transfer measured. */
    String text() {
        return String.format("%.0f %% busy, %.2f s/GB", 100.0 * busy / Math.max(1, total),
                busy * JIFFY_MS / 1000 / (bytes / 1e9));
    }

    /** {busy, total} jiffies of all CPUs: busy is everything but idle and iowait. */
    private static long[] sample() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long all = 0;
        for (int i = 1; i < f.length && i <= 8; i++) { // user nice system idle iowait irq softirq steal
            all += Long.parseLong(f[i]);
        }
        long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
        return new long[] {all - idle, all};
    }
}
