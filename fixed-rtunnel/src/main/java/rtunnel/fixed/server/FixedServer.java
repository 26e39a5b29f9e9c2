package rtunnel.fixed.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.CountDownLatch;

import javax.net.ssl.SSLContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.cli.RtunnelException;
import rtunnel.common.cli.Unix;
import rtunnel.common.control.ControlServer;
import rtunnel.common.daemon.Privileges;
import rtunnel.common.net.IpAddresses;
import rtunnel.common.protocol.V1;
import rtunnel.common.relay.LinkSocket;
import rtunnel.common.relay.Relay;
import rtunnel.common.tls.ServerCredentials;
import rtunnel.common.tls.TlsContexts;
import rtunnel.fixed.FixedConfig;

/**
 * The server: owns the TLS listening socket, the control socket, the allowlists and the live
 * tunnels, and stops them all on shutdown (SIGTERM, SIGINT).
 */
public final class FixedServer {
    private static final Logger log = LoggerFactory.getLogger(FixedServer.class);

    private final ServerSocket tunnelPort;
    private final ControlServer control;
    private final TunnelRegistry registry;
    private final CountDownLatch stopped = new CountDownLatch(1);

    private FixedServer(ServerSocket tunnelPort, ControlServer control, TunnelRegistry registry) {
        this.tunnelPort = tunnelPort;
        this.control = control;
        this.registry = registry;
    }

    /** Loads or makes the key, binds the TLS port and the control socket, and starts serving. */
    public static FixedServer start(FixedConfig config) throws RtunnelException {
        ServerCredentials creds = ServerCredentials.loadOrGenerate(config.keyFile(), config.certFile(), Unix.hostname());
        if (creds.generated()) {
            log.info("generated private key {} and certificate {}; fingerprint {}", config.keyFile(),
                    config.certFile(), creds.fingerprint());
        }
        SSLContext tls = TlsContexts.server(creds);
        AccessPolicy policy = new AccessPolicy(config.sshOnly());
        PortAllocator ports = new PortAllocator(config.clientInterface(), config.clientPortLow(), config.clientPortHigh());
        StateFile stateFile = config.stateFile() == null ? null : new StateFile(config.stateFile());
        DeviceRegistry devices = new DeviceRegistry(config.requireDeviceKey());
        if (stateFile != null) {
            StateFile.State state = stateFile.load();
            policy.tunnels().replaceAllEntries(state.tunnels());
            policy.clients().replaceAllEntries(state.clients());
            ports.restore(state.ports());
            devices.restore(state.devices());
            log.info("state file {}: {} tunnel and {} client allowlist entries, {} sticky ports", stateFile.path(),
                    state.tunnels().size(), state.clients().size(), state.ports().size());
        }
        ControlDispatcher.Saver saver = stateFile == null ? () -> { } : () -> stateFile.save(new StateFile.State(
                policy.tunnels().liveEntries(), policy.clients().liveEntries(), ports.lastPorts(), devices.approved()));
        ports.onChange(() -> {
            try {
                saver.save();
            } catch (IOException e) {
                log.warn("cannot save sticky ports to the state file: {}", e.getMessage());
            }
        });
        ServerSocket port = bind(config.port());
        TunnelRegistry registry = new TunnelRegistry(config.maxTunnels());
        ControlServer control;
        try {
            control = ControlServer.start(config.socketPath(), new ControlDispatcher(policy, registry, devices, saver));
        } catch (RtunnelException e) {
            Relay.closeQuietly(port);
            throw e;
        }
        try {
            dropRoot(config, stateFile, control);
        } catch (RtunnelException e) {
            Relay.closeQuietly(port);
            control.close();
            throw e;
        }
        FixedServer server = new FixedServer(port, control, registry);
        V2Accept v2 = new V2Accept(config.password(), policy, registry, ports, devices, config.pingInterval(),
                config.pingTimeout());
        TunnelListener listener = new TunnelListener(port, tls, config.password(), policy, registry, ports,
                V1.KEEPALIVE_INTERVAL, v2, devices);
        Thread.ofPlatform().name("tunnel-accept").daemon(true).start(listener);
        Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "shutdown"));
        log.info("listening on port {} (TLS), control socket {}, client ports on {}, certificate {}",
                config.port(), config.socketPath(),
                config.clientInterface() == null ? "all addresses" : IpAddresses.format(config.clientInterface()),
                creds.fingerprint());
        return server;
    }

    /**
     * As root without --notroot: hand the state directory and the control socket to the service
     * user, then become that user for good. Everything that needs root is done by now.
     */
    private static void dropRoot(FixedConfig config, StateFile stateFile, ControlServer control) throws RtunnelException {
        if (config.notRoot() || !Unix.isRoot()) {
            return;
        }
        Privileges.Account account = Privileges.lookup(config.user());
        try {
            if (stateFile != null) {
                Privileges.prepareDirectory(stateFile.path().getParent(), account);
                if (java.nio.file.Files.exists(stateFile.path())) {
                    Privileges.chown(stateFile.path(), account);
                }
            }
            Privileges.chown(control.path(), account);
        } catch (IOException e) {
            throw RtunnelException.failure("cannot hand files to user " + account.name() + ": " + e.getMessage(), e);
        }
        Privileges.drop(account);
    }

    private static ServerSocket bind(int port) throws RtunnelException {
        ServerSocket s = null;
        try {
            s = LinkSocket.listener();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(port), 128);
            return s;
        } catch (IOException e) {
            Relay.closeQuietly(s);
            throw RtunnelException.failure("cannot listen on port " + port + ": " + e.getMessage()
                    + (port < 1024 ? " (ports below 1024 need root; see --port and --notroot)" : ""), e);
        }
    }

    /** Blocks until the server is stopped. */
    public void awaitStop() {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops accepting, ends every tunnel and removes the control socket. */
    public void stop() {
        if (stopped.getCount() == 0) {
            return;
        }
        log.info("stopping: {} tunnels open", registry.size());
        Relay.closeQuietly(tunnelPort);
        control.close();
        for (Tunnel t : registry.all()) {
            t.close();
        }
        stopped.countDown();
    }
}
