package rtunnel.common.v2;

import java.time.Duration;

/** Constants of protocol v2 that both programs must agree on (docs/PROTOCOL.md). */
public final class V2Wire {
    /** The ALPN name our dynamic side offers and our fixed side selects. */
    public static final String ALPN = "rtunnel/2";
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(20);
    public static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(60);
    /** The whole handshake after TLS must finish within this. */
    public static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    private V2Wire() {
    }
}
