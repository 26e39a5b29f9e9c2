package rtunnel.common.cli;

import java.nio.file.Path;

import picocli.CommandLine.Option;

/** The options both programs share for running as a service (a picocli mixin). */
public final class ServiceOptions {
    @Option(names = "--verbose", description = "More log lines (same as --log-level=debug).")
    public boolean verbose;

    @Option(names = "--debug", description = "Stay in the foreground and log to stderr; implies --verbose.")
    public boolean debug;

    @Option(names = "--foreground",
            description = "Stay in the foreground (for systemd and containers), log to stderr at the normal level.")
    public boolean foreground;

    @Option(names = "--log-level", paramLabel = "LEVEL",
            description = "error, warn, info (default) or debug.")
    public String logLevel;

    @Option(names = "--logfile", paramLabel = "FILE",
            description = "Log to this file instead of syslog (or stderr in the foreground).")
    public Path logFile;

    @Option(names = "--pidfile", paramLabel = "FILE", description = "Write the process id here.")
    public Path pidFile;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Read options from FILE: 'name = value' lines with the long option names; the command line wins.")
    public Path config;

    public boolean inForeground() {
        return debug || foreground;
    }

    public boolean verboseLogging() {
        return "debug".equals(level());
    }

    /** The log level name (error, warn, info or debug). */
    public String level() {
        if (logLevel != null) {
            return logLevel;
        }
        return verbose || debug ? "debug" : "info";
    }

    /** Checks --log-level; a usage error names the choices. */
    public void check() throws RtunnelException {
        if (logLevel != null && !java.util.List.of("error", "warn", "info", "debug").contains(logLevel)) {
            throw RtunnelException.usage("invalid value for --log-level: '" + logLevel + "' (error, warn, info or debug)");
        }
    }

    public Path absoluteLogFile() {
        return logFile == null ? null : logFile.toAbsolutePath();
    }

    public Path absolutePidFile() {
        return pidFile == null ? null : pidFile.toAbsolutePath();
    }
}
