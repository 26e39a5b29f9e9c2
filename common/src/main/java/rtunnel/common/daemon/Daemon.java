package rtunnel.common.daemon;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import rtunnel.common.cli.CommandRunner;
import rtunnel.common.cli.RtunnelException;

/**
 * Going to the background the way a Unix daemon does, in a language that cannot fork.
 *
 * <p>The command the user typed starts a copy of its own JVM command line under {@code setsid}
 * (a new session, no controlling terminal) with {@value #CHILD_ENV}=1, stdin and stderr on
 * /dev/null, and stdout on a pipe it reads. The child reports startup errors on that pipe; when
 * it is really serving it writes {@value #READY}. The parent relays error lines to the terminal
 * and exits 0 only after READY, otherwise with the child's status. The child never closes its
 * standard descriptors: a closed fd 1 or 2 would be reused by the next socket it opens, and the
 * JVM's own messages to "stderr" would then land in a tunnel.
 */
public final class Daemon {
    static final String CHILD_ENV = "RTUNNEL_DAEMON_CHILD";
    static final String READY = "RTUNNEL-READY";
    private static final long READY_TIMEOUT_SECONDS = 60;

    private Daemon() {
    }

    /** True in the background copy started by {@link #detach}. */
    public static boolean isChild() {
        return "1".equals(System.getenv(CHILD_ENV));
    }

    /**
     * Starts the background copy and waits until it reports ready or fails.
     *
     * @return the exit status for the command the user typed
     */
    public static int detach(String program) throws RtunnelException {
        ProcessHandle.Info info = ProcessHandle.current().info();
        if (info.command().isEmpty() || info.arguments().isEmpty()) {
            throw RtunnelException.failure("cannot find this process's command line to go to the background;"
                    + " run with --debug to stay in the foreground");
        }
        List<String> cmd = new ArrayList<>();
        setsid().ifPresent(cmd::add);
        cmd.add(info.command().get());
        cmd.addAll(List.of(info.arguments().get()));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(ProcessBuilder.Redirect.PIPE)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put(CHILD_ENV, "1");
        Process child;
        try {
            child = pb.start();
        } catch (IOException e) {
            throw RtunnelException.failure("cannot start the background process: " + e.getMessage(), e);
        }
        return awaitReady(program, child);
    }

    private static int awaitReady(String program, Process child) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_TIMEOUT_SECONDS);
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                if (!child.waitFor(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    child.getInputStream().close();
                }
            } catch (InterruptedException | IOException e) {
                Thread.currentThread().interrupt();
            }
        });
        try (BufferedReader r = new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.equals(READY)) {
                    watchdog.interrupt();
                    return RtunnelException.OK;
                }
                System.err.println(line);
            }
        } catch (IOException e) {
            // Pipe closed by the watchdog: handled below as "not ready".
        }
        watchdog.interrupt();
        try {
            long left = Math.max(1, deadline - System.nanoTime());
            if (child.waitFor(Math.min(left, TimeUnit.SECONDS.toNanos(5)), TimeUnit.NANOSECONDS)) {
                int status = child.exitValue();
                return status == 0 ? RtunnelException.FAILURE : status;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        child.destroyForcibly();
        CommandRunner.err(program, "the background process did not report ready within "
                + READY_TIMEOUT_SECONDS + " s and was stopped; run with --debug to see why");
        return RtunnelException.FAILURE;
    }

    /**
     * In the child, first thing: stdout is the parent's pipe. It becomes the stream for startup
     * errors, and System.out is pointed at nothing so stray prints cannot reach the pipe.
     */
    public static void takeReportChannel() {
        PrintStream pipe = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        CommandRunner.keepStartupErr(pipe);
    }

    /** In the child: tell the waiting parent that startup succeeded. Later errors go to the log. */
    public static void ready() {
        PrintStream pipe = CommandRunner.startupErr();
        CommandRunner.keepStartupErr(null);
        if (isChild()) {
            pipe.println(READY);
            pipe.flush();
        }
    }

    private static java.util.Optional<String> setsid() {
        for (String p : new String[] {"/usr/bin/setsid", "/bin/setsid"}) {
            if (Files.isExecutable(Path.of(p))) {
                return java.util.Optional.of(p);
            }
        }
        return java.util.Optional.empty();
    }
}
