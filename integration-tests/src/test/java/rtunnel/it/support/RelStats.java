package rtunnel.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a process holds, from {@code /proc/PID} and {@code jcmd}: open file descriptors, threads,
 * resident memory, and the Java heap in use right after a full GC. The churn, hostile-input and
 * soak tests compare a snapshot before with one after.
 */
public record RelStats(int fds, int threads, long rssKb, long heapKb) {

    /** Java's own heap figures need a JDK's jcmd; the one running the tests is one. */
    private static final Path JCMD = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    private static final Pattern USED = Pattern.compile("(?mi)^\\s*(?:def ?new|tenured|psyounggen|paroldgen|garbage-first heap)"
            + "[^\\n]*?used (\\d+)K");
    private static final Duration JCMD_TIMEOUT = Duration.ofSeconds(60);

    /** File descriptors, threads and RSS now (no GC). */
    public static RelStats of(long pid) {
        return new RelStats(fds(pid), (int) status(pid, "Threads"), status(pid, "VmRSS"), -1);
    }

    /** As {@link #of}, after a full GC, with the heap in use after it. */
    public static RelStats afterGc(long pid) {
        jcmd(pid, "GC.run");
        long heap = heapUsedKb(pid);
        return new RelStats(fds(pid), (int) status(pid, "Threads"), status(pid, "VmRSS"), heap);
    }

    /** Number of entries in {@code /proc/PID/fd}. */
    public static int fds(long pid) {
        try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return (int) s.count();
        } catch (IOException e) {
            throw new AssertionError("cannot list /proc/" + pid + "/fd: " + e, e);
        }
    }

    /** A numeric field of {@code /proc/PID/status} (kB for the Vm* ones). */
    public static long status(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).strip().split("\\s+")[0]);
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read /proc/" + pid + "/status: " + e, e);
        }
        throw new AssertionError("no " + field + " in /proc/" + pid + "/status");
    }

    /** Heap in use (all generations) as {@code jcmd PID GC.heap_info} reports it. */
    public static long heapUsedKb(long pid) {
        String out = jcmd(pid, "GC.heap_info");
        Matcher m = USED.matcher(out);
        long sum = 0;
        int found = 0;
        while (m.find()) {
            sum += Long.parseLong(m.group(1));
            found++;
        }
        if (found == 0) {
            throw new AssertionError("cannot read the heap in use from jcmd GC.heap_info:\n" + out);
        }
        return sum;
    }

    /** Runs {@code jcmd PID command}; fails on a non-zero exit. */
    public static String jcmd(long pid, String command) {
        Procs.Result r = Procs.runToEnd(List.of(JCMD.toString(), Long.toString(pid), command), JCMD_TIMEOUT);
        if (r.exit() != 0) {
            throw new AssertionError("jcmd " + pid + " " + command + " failed: " + r);
        }
        return r.stdout();
    }

    @Override
    public String toString() {
        return "fds=" + fds + " threads=" + threads + " rss=" + rssKb / 1024 + "MB"
                + (heapKb >= 0 ? " heapAfterGc=" + heapKb / 1024 + "MB(" + heapKb + "K)" : "");
    }
}
