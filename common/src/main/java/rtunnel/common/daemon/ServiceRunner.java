package rtunnel.common.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import rtunnel.common.cli.RtunnelException;
import rtunnel.common.cli.Unix;

/**
 * What both programs do to run as a service: go to the background unless --debug, set up
 * logging, start, report ready only once started, then serve until stopped.
 */
public final class ServiceRunner {
    /** Starts the service; returns the blocking loop that serves until shutdown. */
    @FunctionalInterface
    public interface Startup {
        Runnable start() throws RtunnelException;
    }

    private ServiceRunner() {
    }

    /**
     * @param pidFile written (atomically) before starting, so while still root, and removed at exit; may be null
     */
    public static int run(String program, rtunnel.common.cli.ServiceOptions options, Startup startup)
            throws RtunnelException {
        options.check();
        Path pidFile = options.absolutePidFile();
        boolean child = Daemon.isChild();
        if (!options.inForeground() && !child) {
            return Daemon.detach(program);
        }
        if (child) {
            Daemon.takeReportChannel();
        }
        LogSetup.configure(program, child, options.level(), options.absoluteLogFile(), fallbackLog(program));
        if (pidFile != null) {
            writePid(pidFile); // before start: a server that drops root could not write it afterwards
        }
        Runnable serve = startup.start();
        Daemon.ready();
        SystemdNotify.ready();
        serve.run();
        return RtunnelException.OK;
    }

    private static void writePid(Path pidFile) throws RtunnelException {
        try {
            Path tmp = pidFile.resolveSibling(pidFile.getFileName() + ".tmp");
            Files.writeString(tmp, Unix.pid() + "\n");
            Files.move(tmp, pidFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw RtunnelException.failure("cannot write pid file " + pidFile + ": " + e.getMessage(), e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(pidFile);
            } catch (IOException ignored) {
                // Best effort at exit.
            }
        }, "pidfile"));
    }

    /** Used in the background when there is no syslog socket and no --logfile. */
    static Path fallbackLog(String program) {
        return Unix.isRoot() ? Path.of("/var/log/" + program + ".log")
                : Path.of(System.getProperty("java.io.tmpdir"), program + "-" + Unix.uid() + ".log");
    }
}
