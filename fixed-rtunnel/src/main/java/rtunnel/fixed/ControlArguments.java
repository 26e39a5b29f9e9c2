package rtunnel.fixed;

import rtunnel.common.cli.RtunnelException;
import rtunnel.common.control.ControlCommand;
import rtunnel.common.net.AddressRange;

/** Checks a control option's argument before anything is sent, so a typo is a usage error (exit 2). */
final class ControlArguments {
    private ControlArguments() {
    }

    static String check(ControlCommand command, String argument) throws RtunnelException {
        String option = "--" + command.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        switch (command) {
            case ADDIP_TUNNEL, ADDIP_CLIENT, DELIP_TUNNEL, DELIP_CLIENT -> {
                try {
                    return AddressRange.parse(argument).toString();
                } catch (IllegalArgumentException e) {
                    throw RtunnelException.usage("invalid value for " + option + ": " + e.getMessage());
                }
            }
            case KILL_TUNNEL -> {
                if (argument == null || !argument.matches("[0-9]{1,18}")) {
                    throw RtunnelException.usage("invalid value for " + option + ": '" + argument
                            + "' is not a tunnel id (see --list-tunnels)");
                }
                return argument;
            }
            default -> {
                return argument;
            }
        }
    }
}
