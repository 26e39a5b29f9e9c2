package rtunnel.common.control;

import java.util.List;

/** The answer to one request: lines to print, or one error line. */
public record ControlReply(boolean ok, List<String> lines) {
    public ControlReply {
        lines = List.copyOf(lines);
    }

    public static ControlReply ok(List<String> lines) {
        return new ControlReply(true, lines);
    }

    public static ControlReply ok(String line) {
        return new ControlReply(true, List.of(line));
    }

    public static ControlReply error(String message) {
        return new ControlReply(false, List.of(message));
    }
}
