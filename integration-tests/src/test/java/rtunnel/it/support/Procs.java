package rtunnel.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * A real child process whose stdout and stderr go to one log file, stopped by pid with its whole
 * process tree. Integration tests start programs through this class so that no process outlives
 * its test, and a failing test can print what the program said.
 */
public final class Procs implements AutoCloseable {

    /** How long a process gets to end after SIGTERM before it is killed. */
    private static final Duration GRACE = Duration.ofSeconds(5);
    /** Polling interval of {@link #waitFor}: short enough for fast tests, long enough not to spin. */
    private static final long POLL_MILLIS = 50;

    private final String name;
    private final Process process;
    private final Path log;

    private Procs(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** Starts {@code cmd}, logging its stdout and stderr to {@code dir/name.log}. */
    public static Procs start(Path dir, String name, List<String> cmd) {
        return start(dir, name, cmd, Map.of());
    }

    /** As {@link #start(Path, String, List)}, with extra environment variables. */
    public static Procs start(Path dir, String name, List<String> cmd, Map<String, String> env) {
        Path log = dir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        try {
            return new Procs(name, pb.start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + name + ": " + cmd, e);
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The process's stdin, for programs that read from it. */
    public OutputStream stdin() {
        return process.getOutputStream();
    }

    public Path log() {
        return log;
    }

    /** Everything the process wrote so far (stdout and stderr interleaved). */
    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(could not read " + log + ": " + e + ")";
        }
    }

    /** Waits for the process to exit by itself; fails with its output on timeout. */
    public int waitForExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(name + " (pid " + pid() + ") still running after " + timeout
                        + "; output:\n" + output());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + name, e);
        }
    }

    /** Stops the process and its descendants: SIGTERM, up to 5 s grace, then SIGKILL. */
    public void stop() {
        stopTree(process.toHandle());
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return name + "(pid " + pid() + ")";
    }

    /** Stops a process known only by pid (for example from a pid file) and its descendants. */
    public static void stopPid(long pid) {
        ProcessHandle.of(pid).ifPresent(Procs::stopTree);
    }

    private static void stopTree(ProcessHandle root) {
        // Snapshot descendants first: once the root dies they are re-parented and no longer listed.
        List<ProcessHandle> all = new ArrayList<>(root.descendants().toList());
        all.add(0, root);
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + GRACE.toNanos();
        for (int i = 0; i < GRACE.toMillis() / POLL_MILLIS + 1 && System.nanoTime() < deadline; i++) {
            if (all.stream().noneMatch(ProcessHandle::isAlive)) {
                return;
            }
            sleep(POLL_MILLIS);
        }
        all.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(GRACE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // Best effort: a process that survives SIGKILL for 5 s is beyond our reach.
            }
        }
    }

    /**
     * Polls {@code condition} until it holds; bounded both in time and in number of tries so a
     * test can never hang here. Fails with {@code what} on timeout.
     */
    public static void waitFor(Duration timeout, BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long maxTries = timeout.toMillis() / POLL_MILLIS + 2;
        for (long i = 0; i < maxTries; i++) {
            if (condition.getAsBoolean()) {
                return;
            }
            if (System.nanoTime() >= deadline) {
                break;
            }
            sleep(POLL_MILLIS);
        }
        throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Outcome of {@link #runToEnd}: exit status and the full text of both streams. */
    public record Result(int exit, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout:\n" + stdout + "--- stderr:\n" + stderr;
        }
    }

    /** Runs {@code cmd} with empty stdin until it exits; fails (and kills it) after {@code timeout}. */
    public static Result runToEnd(List<String> cmd, Duration timeout) {
        return runToEnd(cmd, new byte[0], timeout);
    }

    /** Runs {@code cmd} feeding it {@code stdin}; fails (and kills it) after {@code timeout}. */
    public static Result runToEnd(List<String> cmd, byte[] stdin, Duration timeout) {
        return runToEnd(cmd, Map.of(), stdin, timeout);
    }

    /** As {@link #runToEnd(List, byte[], Duration)} with {@code env} added to the environment. */
    public static Result runToEnd(List<String> cmd, Map<String, String> env, byte[] stdin, Duration timeout) {
        Process p;
        try {
            ProcessBuilder b = new ProcessBuilder(cmd);
            b.environment().putAll(env);
            p = b.start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + cmd, e);
        }
        Drain out = new Drain(p.getInputStream());
        Drain err = new Drain(p.getErrorStream());
        Thread feeder = Thread.ofVirtual().start(() -> {
            try (OutputStream in = p.getOutputStream()) {
                in.write(stdin);
            } catch (IOException e) {
                // The program may exit without reading all of its input; that is its business.
            }
        });
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                stopTree(p.toHandle());
                throw new AssertionError("timed out after " + timeout + ": " + cmd
                        + "\n--- stdout so far:\n" + out.text() + "--- stderr so far:\n" + err.text());
            }
            // A daemon child may keep the pipes open; give the drains a moment, then take what came.
            out.join(Duration.ofSeconds(2));
            err.join(Duration.ofSeconds(2));
            feeder.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopTree(p.toHandle());
            throw new AssertionError("interrupted running " + cmd, e);
        }
        return new Result(p.exitValue(), out.text(), err.text());
    }

    /** Reads a stream to its end on a daemon thread; the text so far is available at any time. */
    private static final class Drain {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private final Thread thread;

        Drain(InputStream in) {
            thread = Thread.ofPlatform().daemon().start(() -> {
                byte[] chunk = new byte[8192];
                try (in) {
                    for (int n; (n = in.read(chunk)) >= 0; ) {
                        synchronized (buf) {
                            buf.write(chunk, 0, n);
                        }
                    }
                } catch (IOException e) {
                    // Stream closed under us: keep what was read.
                }
            });
        }

        void join(Duration d) throws InterruptedException {
            thread.join(d);
        }

        String text() {
            synchronized (buf) {
                return buf.toString(StandardCharsets.UTF_8);
            }
        }
    }

    /** Reads a pid file written by a program, if it exists and holds a number. */
    public static Optional<Long> readPid(Path pidFile) {
        try (Stream<String> lines = Files.lines(pidFile)) {
            return lines.findFirst().map(String::strip).filter(s -> s.matches("\\d+")).map(Long::parseLong);
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
