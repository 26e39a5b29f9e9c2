package rtunnel.fixed;

import java.net.InetAddress;
import java.nio.file.Path;

import rtunnel.common.protocol.Password;

/**
 * The server's settings, checked and with defaults applied; paths are absolute because a
 * background server must not depend on the directory it was started from.
 *
 * @param clientInterface address client ports bind to, null for all
 */
public record FixedConfig(Password password, int port, InetAddress clientInterface, int maxTunnels,
        Path keyFile, Path certFile, Path socketPath, boolean notRoot, boolean verbose, boolean debug,
        Path logFile) {
}
