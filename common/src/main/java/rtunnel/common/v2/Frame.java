package rtunnel.common.v2;

/** One decoded frame; {@code payload} is never null. */
public record Frame(FrameType type, int flags, int stream, byte[] payload) {
    public Frame {
        if (payload == null) {
            payload = new byte[0];
        }
    }
}
