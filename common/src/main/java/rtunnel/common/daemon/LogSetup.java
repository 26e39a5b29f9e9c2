package rtunnel.common.daemon;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

import org.slf4j.event.Level;

import rtunnel.common.cli.CommandRunner;
import rtunnel.common.cli.RtunnelException;

/**
 * Points the log lines ({@link LineLogger}) at the right place: stderr in the foreground, syslog
 * (daemon facility) in the background, or a log file when asked or when the machine has no syslog
 * socket. A line goes to whatever {@code System.err} is at the time of each call, so the
 * background modes swap {@code System.err} for their own stream.
 */
public final class LogSetup {
    static final Path SYSLOG_SOCKET = Path.of("/dev/log");

    /** Where log lines go. */
    public enum Target { STDERR, SYSLOG, FILE }

    private LogSetup() {
    }

    /**
     * Configures logging for this process.
     *
     * @param background true in the daemon child
     * @param logfile explicit --logfile, or null
     * @param fallbackLogfile used in the background when there is no syslog socket
     * @return the target chosen
     */
    public static Target configure(String program, boolean background, String level, Path logfile,
            Path fallbackLogfile) throws RtunnelException {
        Target target = logfile != null ? Target.FILE
                : !background ? Target.STDERR
                : Files.exists(SYSLOG_SOCKET) ? Target.SYSLOG : Target.FILE;
        // syslog stamps its own time; files and terminals need ours.
        LineLogger.configure(Level.valueOf(level.toUpperCase(Locale.ROOT)), target != Target.SYSLOG);
        PrintStream terminal = System.err;
        switch (target) {
            case STDERR -> {
                return target;
            }
            case SYSLOG -> System.setErr(new PrintStream(new SyslogStream(program, SYSLOG_SOCKET), true,
                    StandardCharsets.UTF_8));
            case FILE -> System.setErr(new PrintStream(openLog(logfile != null ? logfile : fallbackLogfile),
                    true, StandardCharsets.UTF_8));
        }
        if (CommandRunner.startupErr() == System.err) {
            // Foreground with a log file: startup errors still belong on the terminal.
            CommandRunner.keepStartupErr(terminal);
        }
        return target;
    }

    private static OutputStream openLog(Path file) throws RtunnelException {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            // No following links: a log in a shared directory such as /tmp must not be redirected.
            return Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw RtunnelException.failure("cannot open log file " + file + ": " + e.getMessage(), e);
        }
    }
}
