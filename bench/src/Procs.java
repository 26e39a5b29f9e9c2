import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starts child processes, logs their output to files, and stops every one it started, by pid. */
final class Procs {
    private final Path dir;
    private final List<Process> started = new ArrayList<>();
    private int seq;

    Procs(Path dir) {
        this.dir = dir;
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll));
    }

    /** Starts a long-running process; its stdout and stderr go to DIR/NAME-N.log. */
    synchronized Process start(String name, List<String> cmd) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + "-" + (seq++) + ".log").toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        started.add(p);
        return p;
    }

    /** Runs a command to completion and returns its output (stdout+stderr); fails on a non-zero exit. */
    static String run(List<String> cmd, long timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        File out = File.createTempFile("bench-run", ".out");
        pb.redirectOutput(out);
        Process p = pb.start();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", cmd));
            }
            String text = Files.readString(out.toPath());
            if (p.exitValue() != 0) {
                throw new IOException("exit " + p.exitValue() + ": " + String.join(" ", cmd) + ": " + text.strip());
            }
            return text;
        } finally {
            out.delete();
        }
    }

    /** Stops one process: SIGTERM, then SIGKILL after 3 s. */
    void stop(Process p) {
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(3, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(3, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
        }
        synchronized (this) {
            started.remove(p);
        }
    }

    synchronized void stopAll() {
        for (Process p : List.copyOf(started)) {
            p.destroy();
        }
        for (Process p : List.copyOf(started)) {
            try {
                if (!p.waitFor(3, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }
        started.clear();
    }
}
