package rtunnel.common.daemon;

import java.nio.file.Path;

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

    public static int run(String program, boolean debug, boolean verbose, Path logFile, Startup startup)
            throws RtunnelException {
        boolean child = Daemon.isChild();
        if (!debug && !child) {
            return Daemon.detach(program);
        }
        if (child) {
            Daemon.takeReportChannel();
        }
        LogSetup.configure(program, child, verbose, logFile, fallbackLog(program));
        Runnable serve = startup.start();
        Daemon.ready();
        serve.run();
        return RtunnelException.OK;
    }

    /** Used in the background when there is no syslog socket and no --logfile. */
    static Path fallbackLog(String program) {
        return Unix.isRoot() ? Path.of("/var/log/" + program + ".log")
                : Path.of(System.getProperty("java.io.tmpdir"), program + "-" + Unix.uid() + ".log");
    }
}
