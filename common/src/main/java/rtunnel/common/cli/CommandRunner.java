package rtunnel.common.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * Runs a picocli command with the project's error conventions: every failure is one line
 * {@code program: message} on stderr, the stack trace only with --verbose or --debug, and the exit
 * status of {@link RtunnelException} (2 for a bad command line).
 */
public final class CommandRunner {
    private CommandRunner() {
    }

    /** Parses {@code args} into {@code command}, calls it, and returns the exit status. */
    public static int run(String program, Callable<Integer> command, String[] args) {
        CommandLine cl = new CommandLine(command);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // Control options may repeat (--addip-client=A --addip-client=B); each occurrence is a step.
        cl.setOverwrittenOptionsAllowed(true);
        cl.setParameterExceptionHandler((ParameterException e, String[] a) -> {
            err(program, oneLine(e.getMessage()) + " (see --help)");
            return RtunnelException.USAGE;
        });
        cl.setExecutionExceptionHandler((Exception e, CommandLine c, CommandLine.ParseResult r) ->
                failed(program, e, verbose(r)));
        cl.setOut(new PrintWriter(System.out, true));
        String config = ConfigFile.pathIn(args);
        if (config != null) {
            try {
                cl.setDefaultValueProvider(ConfigFile.load(java.nio.file.Path.of(config), cl.getCommandSpec()));
            } catch (RtunnelException e) {
                return report(program, e);
            }
        }
        return cl.execute(args);
    }

    /**
     * Calls a command whose options were set without picocli (a lean start path), with the same
     * reporting as {@link #run}: a failure is one line and its exit status.
     */
    public static int call(String program, Callable<Integer> command, boolean verbose) {
        try {
            return command.call();
        } catch (Exception e) {
            return failed(program, e, verbose);
        }
    }

    /** Reports an exception a command's call ended with and returns its exit status. */
    private static int failed(String program, Exception e, boolean verbose) {
        if (e instanceof RtunnelException re) {
            err(program, oneLine(re.getMessage()));
            if (verbose && re.getCause() != null) {
                re.getCause().printStackTrace(startupErr());
            }
            return re.exitCode();
        }
        err(program, "internal error: " + oneLine(String.valueOf(e)));
        e.printStackTrace(startupErr());
        return RtunnelException.FAILURE;
    }

    private static boolean verbose(CommandLine.ParseResult r) {
        return r != null && (r.hasMatchedOption("--verbose") || r.hasMatchedOption("--debug"));
    }

    /** Prints the failure as one error line and returns its exit status. */
    public static int report(String program, RtunnelException e) {
        err(program, oneLine(e.getMessage()));
        return e.exitCode();
    }

    /** Prints one error line the way every command does. */
    public static void err(String program, String message) {
        PrintStream e = startupErr();
        e.println(program + ": " + message);
        e.flush();
    }

    /**
     * Where startup errors go: the terminal's stderr, even in a daemon child whose System.err
     * was redirected to syslog (the parent relays this stream to the user).
     */
    public static PrintStream startupErr() {
        PrintStream saved = savedErr;
        return saved != null ? saved : System.err;
    }

    private static volatile PrintStream savedErr;

    /** Called by the daemon set-up before it points System.err at the log. */
    public static void keepStartupErr(PrintStream terminal) {
        savedErr = terminal;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*[\\r\\n]+\\s*", "; ");
    }
}
