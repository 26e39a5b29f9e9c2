package rtunnel.common.v2;

/** The closed set of v2 frame types (docs/PROTOCOL.md, "Frames"). */
public enum FrameType {
    CHALLENGE(0x01), HELLO(0x02), WELCOME(0x03), REFUSE(0x04),
    OPEN(0x10), DATA(0x11), WINDOW(0x12), FIN(0x13), RESET(0x14),
    PING(0x20), PONG(0x21), GOAWAY(0x22);

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    final int code;

    FrameType(int code) {
        this.code = code;
    }

    /** The type with this code, or null for a code no version of ours sends. */
    static FrameType of(int code) {
        return BY_CODE[code & 0xff];
    }
}
