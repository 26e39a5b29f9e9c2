package rtunnel.fixed;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import rtunnel.common.cli.CommandRunner;
import rtunnel.common.cli.RtunnelException;
import rtunnel.common.control.ControlClient;
import rtunnel.common.control.ControlCommand;
import rtunnel.common.control.ControlRequest;

/**
 * The lean start path for the commands operators type all day ({@code --list-tunnels},
 * {@code --addip-client=...}): when the arguments are only control options in their
 * {@code --name[=value]} form, they are handled here without building the picocli model (the
 * bulk of a control command's start time). Anything else, including every mistake, goes the
 * normal way, so messages and exit codes are the same either way.
 */
final class QuickControl {
    private static final Map<String, ControlCommand> COMMANDS = Map.ofEntries(
            Map.entry("--list-tunnels", ControlCommand.LIST_TUNNELS),
            Map.entry("--list-allowed-tunnels", ControlCommand.LIST_ALLOWED_TUNNELS),
            Map.entry("--list-allowed-clients", ControlCommand.LIST_ALLOWED_CLIENTS),
            Map.entry("--lastip-tunnel", ControlCommand.LASTIP_TUNNEL),
            Map.entry("--lastip-client", ControlCommand.LASTIP_CLIENT),
            Map.entry("--addip-tunnel", ControlCommand.ADDIP_TUNNEL),
            Map.entry("--addip-client", ControlCommand.ADDIP_CLIENT),
            Map.entry("--delip-tunnel", ControlCommand.DELIP_TUNNEL),
            Map.entry("--delip-client", ControlCommand.DELIP_CLIENT),
            Map.entry("--kill-tunnel", ControlCommand.KILL_TUNNEL),
            Map.entry("--list-pending", ControlCommand.LIST_PENDING),
            Map.entry("--list-devices", ControlCommand.LIST_DEVICES),
            Map.entry("--approve", ControlCommand.APPROVE),
            Map.entry("--revoke", ControlCommand.REVOKE));

    private QuickControl() {
    }

    /** The exit status if these arguments were handled here; empty to take the normal path. */
    static OptionalInt tryRun(String[] args) {
        Path socket = null;
        boolean notRoot = false;
        boolean json = false;
        List<String[]> steps = new ArrayList<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            String name = eq < 0 ? a : a.substring(0, eq);
            String value = eq < 0 ? null : a.substring(eq + 1);
            ControlCommand c = COMMANDS.get(name);
            if (name.equals("--socketname") && value != null && !value.isEmpty()) {
                socket = Path.of(value);
            } else if (a.equals("--notroot")) {
                notRoot = true;
            } else if (a.equals("--json")) {
                json = true;
            } else if (c != null && c.takesArgument() == (value != null)) {
                steps.add(new String[] {name, value});
            } else {
                return OptionalInt.empty();
            }
        }
        if (steps.isEmpty()) {
            return OptionalInt.empty();
        }
        Path where = FixedCommand.controlSocket(socket, notRoot);
        try {
            List<ControlRequest> requests = new ArrayList<>();
            for (String[] s : steps) {
                ControlCommand c = COMMANDS.get(s[0]);
                requests.add(new ControlRequest(c, ControlArguments.check(c, s[1]), json));
            }
            return OptionalInt.of(ControlClient.run(where, requests, System.out, System.err));
        } catch (RtunnelException e) {
            return OptionalInt.of(CommandRunner.report(FixedCommand.PROGRAM, e));
        }
    }
}
