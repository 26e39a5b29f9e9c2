package rtunnel.common.v2;

import java.io.IOException;

/** The peer broke the protocol: the link is dropped with this message in the log. */
public final class ProtocolException extends IOException {
    public ProtocolException(String message) {
        super(message);
    }
}
