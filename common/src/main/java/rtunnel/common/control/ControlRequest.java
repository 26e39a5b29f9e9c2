package rtunnel.common.control;

import java.time.Duration;

/** One control request; {@code argument} is null for listings, {@code ttl} null unless an added entry expires. */
public record ControlRequest(ControlCommand command, String argument, boolean json, Duration ttl) {
    public ControlRequest(ControlCommand command, String argument, boolean json) {
        this(command, argument, json, null);
    }
}
