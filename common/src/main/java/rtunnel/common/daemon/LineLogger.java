package rtunnel.common.daemon;

import java.io.PrintStream;

import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * One log line per call, in slf4j-simple's layout: {@code 2026-11-23T18:03:26.123Z INFO V2Link - text}
 * (no time under syslog, which stamps its own), written to whatever {@code System.err} is at the
 * time of the call, so {@link LogSetup} can point it at syslog or a file. The level and the clock
 * are read at each call: a logger made before {@link LogSetup#configure} follows it too.
 */
final class LineLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;

    private static volatile int threshold = Level.INFO.toInt();
    private static volatile boolean showTime = true;

    private final String shortName;
    /** Libraries' chatter (junixsocket) is kept to warnings. */
    private final boolean quiet;

    LineLogger(String name) {
        this.name = name;
        this.shortName = name.substring(name.lastIndexOf('.') + 1);
        this.quiet = name.startsWith("org.newsclub");
    }

    static void configure(Level level, boolean time) {
        threshold = level.toInt();
        showTime = time;
    }

    private boolean enabled(Level level) {
        int t = threshold;
        return level.toInt() >= (quiet ? Math.max(t, Level.WARN.toInt()) : t);
    }

    @Override
    public boolean isTraceEnabled() {
        return enabled(Level.TRACE);
    }

    @Override
    public boolean isDebugEnabled() {
        return enabled(Level.DEBUG);
    }

    @Override
    public boolean isInfoEnabled() {
        return enabled(Level.INFO);
    }

    @Override
    public boolean isWarnEnabled() {
        return enabled(Level.WARN);
    }

    @Override
    public boolean isErrorEnabled() {
        return enabled(Level.ERROR);
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] arguments,
            Throwable thrown) {
        StringBuilder b = new StringBuilder(128);
        if (showTime) {
            UtcStamp.append(b, System.currentTimeMillis()).append(' ');
        }
        b.append(level.toString()).append(' ').append(shortName).append(" - ")
                .append(MessageFormatter.basicArrayFormat(pattern, arguments));
        PrintStream out = System.err;
        synchronized (LineLogger.class) {
            out.println(b);
            if (thrown != null) {
                thrown.printStackTrace(out);
            }
            out.flush();
        }
    }
}
