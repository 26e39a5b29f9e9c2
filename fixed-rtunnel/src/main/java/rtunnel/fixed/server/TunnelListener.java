package rtunnel.fixed.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.net.IpAddresses;
import rtunnel.common.protocol.Password;
import rtunnel.common.protocol.V1;
import rtunnel.common.relay.Relay;
import rtunnel.common.relay.SocketTuning;
import rtunnel.common.v2.V2Wire;

/**
 * The accept loop of the TLS port. The loop itself only checks the tunnel allowlist and the
 * tunnel limit; each admitted connection's handshake runs on its own virtual thread under a
 * deadline, so one slow or hostile peer cannot hold up the next.
 */
final class TunnelListener implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(TunnelListener.class);

    private final ServerSocket server;
    private final SSLContext tlsContext;
    private final Password password;
    private final AccessPolicy policy;
    private final TunnelRegistry registry;
    private final PortAllocator ports;
    private final Duration keepaliveInterval;
    private final V2Accept v2;
    private final AdmissionGuard guard = new AdmissionGuard();
    private final QuietLog busyLog = new QuietLog();

    /** At most one line a second for refusals a flood can cause by the thousand, with a count of the rest. */
    private static final class QuietLog {
        private long lastMillis;
        private int suppressed;

        synchronized void warn(String peer, String why) {
            long now = System.currentTimeMillis();
            if (now - lastMillis < 1000) {
                suppressed++;
                return;
            }
            log.warn("tunnel connection from {} refused: {}{}", peer, why,
                    suppressed == 0 ? "" : " (and " + suppressed + " more refusals of this kind in the last seconds)");
            lastMillis = now;
            suppressed = 0;
        }
    }
    private final DeviceRegistry devices;

    TunnelListener(ServerSocket server, SSLContext tlsContext, Password password, AccessPolicy policy,
            TunnelRegistry registry, PortAllocator ports, Duration keepaliveInterval, V2Accept v2,
            DeviceRegistry devices) {
        this.devices = devices;
        this.v2 = v2;
        this.server = server;
        this.tlsContext = tlsContext;
        this.password = password;
        this.policy = policy;
        this.registry = registry;
        this.ports = ports;
        this.keepaliveInterval = keepaliveInterval;
    }

    @Override
    public void run() {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (!server.isClosed()) {
                    log.warn("accept on the tunnel port failed: {}", e.toString());
                }
                continue;
            }
            String peer = IpAddresses.format(s.getInetAddress());
            if (!policy.admitTunnel(s.getInetAddress())) {
                log.warn("tunnel connection from {} refused: not on the tunnel allowlist (--addip-tunnel)", peer);
                Relay.closeQuietly(s);
            } else if (registry.full() && registry.all().stream().noneMatch(t -> t.protocol() == 2)) {
                // As the original: closed at once. (With v2 tunnels live, a v2 link may be a takeover
                // that needs no new slot, so the handshake decides.)
                log.warn("tunnel connection from {} refused: --maxtunnels={} reached", peer, registry.max());
                Relay.closeQuietly(s);
            } else {
                String busy = guard.enter(s);
                if (busy != null) {
                    busyLog.warn(peer, busy);
                    Relay.closeQuietly(s);
                    continue;
                }
                Thread.ofVirtual().name("handshake-" + peer).start(() -> serve(s, peer));
            }
        }
    }

    private void serve(Socket raw, String peer) {
        InetAddress from = raw.getInetAddress();
        java.util.concurrent.atomic.AtomicBoolean pending = new java.util.concurrent.atomic.AtomicBoolean(true);
        Runnable leave = () -> {
            if (pending.compareAndSet(true, false)) {
                guard.leave(raw);
            }
        };
        try {
            handshakeAndServe(raw, peer, from, leave);
        } finally {
            leave.run();
        }
    }

    private void handshakeAndServe(Socket raw, String peer, InetAddress from, Runnable leave) {
        V1Tunnel tunnel;
        try {
            SocketTuning.tune(raw);
            raw.setSoTimeout((int) V1.HANDSHAKE_TIMEOUT.toMillis());
            byte[] magic = V1Handshake.readExactly(raw.getInputStream(), V1.MESSAGE_LENGTH, "protocol magic");
            if (!Arrays.equals(magic, V1.MAGIC)) {
                throw new V1Handshake.Refused("not a reverse tunnel client (unknown protocol magic)");
            }
            SSLSocket tls = V1Handshake.startTls(raw, tlsContext);
            if (V2Wire.ALPN.equals(tls.getApplicationProtocol())) {
                v2.serve(raw, tls, peer, () -> {
                    guard.succeeded(from);
                    leave.run();
                });
                return;
            }
            if (registry.full()) {
                throw new V1Handshake.Refused("--maxtunnels=" + registry.max() + " reached");
            }
            V1Handshake.Link link = V1Handshake.authenticate(tls, password);
            guard.succeeded(from);
            leave.run();
            java.security.cert.X509Certificate deviceCert = rtunnel.common.tls.TlsContexts.peerCertificate(tls);
            DeviceRegistry.Verdict verdict = devices.judge(deviceCert, link.hostname(), from);
            if (verdict != DeviceRegistry.Verdict.ADMIT) {
                throw new V1Handshake.Refused(verdict == DeviceRegistry.Verdict.NO_KEY
                        ? "no device key, and --require-device-key is set" : "device key not approved (--list-pending)");
            }
            raw.setSoTimeout(0);
            tunnel = new V1Tunnel(raw, link.tls(), link.hostname(), policy, keepaliveInterval);
            tunnel.device(deviceCert == null ? null : rtunnel.common.tls.Fingerprints.sha256Base64(deviceCert));
        } catch (V1Handshake.Refused e) {
            if (e.badPassword()) {
                guard.failed(from);
            }
            log.warn("tunnel connection from {} refused: {}", peer, e.getMessage());
            Relay.closeQuietly(raw);
            return;
        } catch (IOException | RuntimeException e) {
            log.warn("tunnel connection from {} failed: {}", peer, e.toString());
            Relay.closeQuietly(raw);
            return;
        }
        try {
            tunnel.bind(ports.bind(tunnel.hostname(), 0));
        } catch (PortAllocator.Refusal e) {
            log.warn("tunnel connection from {}: cannot bind a client port: {}", peer, e.getMessage());
            tunnel.close();
            return;
        }
        Optional<Long> id = registry.register(tunnel);
        if (id.isEmpty()) {
            log.warn("tunnel connection from {} refused: --maxtunnels={} reached", peer, registry.max());
            tunnel.close();
            return;
        }
        try {
            tunnel.run();
        } finally {
            registry.remove(id.get());
        }
    }
}
