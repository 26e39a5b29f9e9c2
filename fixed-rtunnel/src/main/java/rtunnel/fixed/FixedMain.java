package rtunnel.fixed;

import rtunnel.common.cli.CommandRunner;

/** Entry point of fixed_rtunnel. */
public final class FixedMain {
    private FixedMain() {
    }

    public static void main(String[] args) {
        java.util.OptionalInt quick = QuickControl.tryRun(args);
        System.exit(quick.isPresent() ? quick.getAsInt() : CommandRunner.run(FixedCommand.PROGRAM, new FixedCommand(), args));
    }
}
