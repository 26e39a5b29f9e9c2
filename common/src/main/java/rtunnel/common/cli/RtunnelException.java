package rtunnel.common.cli;

/**
 * The one exception type that ends a command: it carries the exit status and a message that
 * names what to fix (the option, path or host:port). The handler prints
 * {@code program: message} on stderr and exits with {@link #exitCode()}.
 */
public final class RtunnelException extends Exception {
    /** Success. */
    public static final int OK = 0;
    /** The command ran and failed: server unreachable, file unreadable, refused request. */
    public static final int FAILURE = 1;
    /** The command line itself is wrong: unknown option, malformed address, port or password. */
    public static final int USAGE = 2;

    private final int exitCode;

    public RtunnelException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public RtunnelException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public static RtunnelException usage(String message) {
        return new RtunnelException(USAGE, message);
    }

    public static RtunnelException failure(String message) {
        return new RtunnelException(FAILURE, message);
    }

    public static RtunnelException failure(String message, Throwable cause) {
        return new RtunnelException(FAILURE, message, cause);
    }

    public int exitCode() {
        return exitCode;
    }
}
