package rtunnel.common.control;

/** The server side's answer to each control request; called on the connection's own thread. */
@FunctionalInterface
public interface ControlHandler {
    ControlReply handle(ControlRequest request);
}
