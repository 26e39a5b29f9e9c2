package rtunnel.dynamic;

import rtunnel.common.cli.CommandRunner;

/** Entry point of dynamic_rtunnel. */
public final class DynamicMain {
    private DynamicMain() {
    }

    public static void main(String[] args) {
        System.exit(CommandRunner.run(DynamicCommand.PROGRAM, new DynamicCommand(), args));
    }
}
