package rtunnel.common.v2;

/** Why the fixed side refused a v2 link; the dynamic side logs the words. */
public enum Reason {
    NOT_ALLOWED(1, "not allowed: this address is not on the server's tunnel allowlist"),
    BAD_PASSWORD(2, "bad password"),
    SERVER_FULL(3, "server full (--maxtunnels reached)"),
    PORT_TAKEN(4, "the requested port is taken"),
    PORT_OUT_OF_RANGE(5, "the requested port is outside the server's --client-ports range"),
    PROTOCOL_TOO_OLD(6, "protocol too old"),
    BAD_REQUEST(7, "bad request"),
    DEVICE_NOT_APPROVED(8, "this device's key is not approved (on the server: fixed_rtunnel --list-pending, --approve)");

    final int code;
    private final String words;

    Reason(int code, String words) {
        this.code = code;
        this.words = words;
    }

    public String words() {
        return words;
    }

    static Reason of(int code) {
        for (Reason r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        return BAD_REQUEST;
    }
}
