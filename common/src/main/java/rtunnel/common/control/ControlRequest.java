package rtunnel.common.control;

/** One control request; {@code argument} is null for listings. */
public record ControlRequest(ControlCommand command, String argument, boolean json) {
}
