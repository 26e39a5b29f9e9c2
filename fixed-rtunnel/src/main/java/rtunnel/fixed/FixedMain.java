package rtunnel.fixed;

import rtunnel.common.cli.CommandRunner;

/** Entry point of fixed_rtunnel. */
public final class FixedMain {
    private FixedMain() {
    }

    public static void main(String[] args) {
        System.exit(CommandRunner.run(FixedCommand.PROGRAM, new FixedCommand(), args));
    }
}
