package rtunnel.common.control;

import java.util.Locale;
import java.util.Optional;

/** The requests the control socket understands; each is named on the wire like its option. */
public enum ControlCommand {
    LIST_TUNNELS(false),
    LIST_ALLOWED_TUNNELS(false),
    LIST_ALLOWED_CLIENTS(false),
    LASTIP_TUNNEL(false),
    LASTIP_CLIENT(false),
    ADDIP_TUNNEL(true),
    ADDIP_CLIENT(true),
    DELIP_TUNNEL(true),
    DELIP_CLIENT(true),
    KILL_TUNNEL(true),
    LIST_PENDING(false),
    LIST_DEVICES(false),
    APPROVE(true),
    REVOKE(true);

    private final boolean takesArgument;

    ControlCommand(boolean takesArgument) {
        this.takesArgument = takesArgument;
    }

    public boolean takesArgument() {
        return takesArgument;
    }

    /** The option name without dashes, e.g. {@code addip-client}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Optional<ControlCommand> byWireName(String name) {
        for (ControlCommand c : values()) {
            if (c.wireName().equals(name)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }
}
