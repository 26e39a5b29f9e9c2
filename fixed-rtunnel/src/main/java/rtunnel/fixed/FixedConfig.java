package rtunnel.fixed;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;

import rtunnel.common.protocol.Password;

/**
 * The server's settings, checked and with defaults applied; paths are absolute because a
 * background server must not depend on the directory it was started from.
 *
 * @param clientInterface address client ports bind to, null for all
 * @param user the account to drop root to (unless notRoot)
 * @param stateFile where allowlists and sticky ports are kept, or null for nowhere
 * @param clientPortLow first port handed to tunnels, 0 for any free port (then clientPortHigh is unused)
 */
public record FixedConfig(Password password, int port, InetAddress clientInterface, int maxTunnels,
        Path keyFile, Path certFile, Path socketPath, boolean notRoot, boolean verbose, boolean debug,
        Path logFile, int clientPortLow, int clientPortHigh, Duration pingInterval, Duration pingTimeout,
        Path stateFile, String user, boolean sshOnly, boolean requireDeviceKey) {
}
