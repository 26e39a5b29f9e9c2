package rtunnel.common.control;

import java.net.InetAddress;
import java.time.Instant;

/**
 * What --list-tunnels shows about one tunnel; {@code remoteIp} is null while a v2 tunnel has no
 * link. {@code lastHeardMillis} is the age of the last sign of life from the dynamic side (v2
 * pings and frames), or -1 where the protocol has none (v1: only the server sends keepalives).
 */
public record TunnelInfo(long id, int port, InetAddress remoteIp, String hostname, Instant connectedAt,
        int protocol, int sessions, long bytesIn, long bytesOut, long lastHeardMillis) {
}
