package rtunnel.dynamic;

import rtunnel.common.cli.CommandRunner;

/** Entry point of dynamic_rtunnel. */
public final class DynamicMain {
    private DynamicMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command these arguments give (the lean path when it applies) and returns its exit status. */
    static int run(String[] args) {
        DynamicCommand quick = QuickStart.parse(args);
        if (quick != null) {
            return CommandRunner.call(DynamicCommand.PROGRAM, quick, quick.service.verbose || quick.service.debug);
        }
        return CommandRunner.run(DynamicCommand.PROGRAM, new DynamicCommand(), args);
    }
}
