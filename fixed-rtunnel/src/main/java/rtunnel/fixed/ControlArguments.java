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
            case APPROVE, REVOKE -> {
                try {
                    return rtunnel.common.tls.Fingerprints.canonical(argument);
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

    /** {@code 90s}, {@code 30m}, {@code 2h}, {@code 7d} (a bare number is seconds); 1 s to 10 years. */
    static java.time.Duration duration(String option, String text) throws RtunnelException {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,9})([smhd]?)").matcher(text);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            long seconds = switch (m.group(2)) {
                case "m" -> n * 60;
                case "h" -> n * 3600;
                case "d" -> n * 86400;
                default -> n;
            };
            if (seconds >= 1 && seconds <= 10L * 366 * 86400) {
                return java.time.Duration.ofSeconds(seconds);
            }
        }
        throw RtunnelException.usage("invalid value for " + option + ": '" + text
                + "' is not a duration from 1s to 3660d (like 90s, 30m, 2h, 7d)");
    }
}
