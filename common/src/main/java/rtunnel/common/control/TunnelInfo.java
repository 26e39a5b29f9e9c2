package rtunnel.common.control;

import java.net.InetAddress;
import java.time.Instant;

/** What --list-tunnels shows about one tunnel; {@code remoteIp} is null while a v2 tunnel has no link. */
public record TunnelInfo(long id, int port, InetAddress remoteIp, String hostname, Instant connectedAt,
        int protocol, int sessions, long bytesIn, long bytesOut) {
}
