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
 */
public record DynamicConfig(InetAddress remoteIp, int remotePort, InetAddress localIp, int localPort,
        Password password, String hostname, Duration alarm, InetAddress sourceIp, boolean notRoot,
        boolean verbose, boolean debug, Path logFile) {
}
