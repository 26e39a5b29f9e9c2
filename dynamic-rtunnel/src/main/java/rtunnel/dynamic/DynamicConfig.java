package rtunnel.dynamic;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;

import rtunnel.common.protocol.Password;

/**
 * dynamic_rtunnel's settings, checked and with defaults applied.
 *
 * @param alarm reconnect period; zero means never
 * @param sourceIp local address the tunnel connection is made from, or null for the system's choice
 * @param protocol 0 = v2 with fallback to v1, 1 = v1 only, 2 = v2 only
 * @param requestPort tunnel port to ask a v2 server for, 0 for any
 * @param proxyProtocol 0 = none, else the PROXY protocol version (1 or 2) sent to the local service
 */
public record DynamicConfig(InetAddress remoteIp, int remotePort, InetAddress localIp, int localPort,
        Password password, String hostname, Duration alarm, InetAddress sourceIp, boolean notRoot,
        boolean verbose, boolean debug, Path logFile, int protocol, int requestPort, int proxyProtocol,
        ServerCheck serverCheck, Path deviceKeyFile, Path deviceCertFile) {
}
