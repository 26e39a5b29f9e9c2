package rtunnel.fixed.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Arrays;

import javax.net.ssl.SSLSocket;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.net.IpAddresses;
import rtunnel.common.protocol.Password;
import rtunnel.common.protocol.Printable;
import rtunnel.common.v2.Frame;
import rtunnel.common.v2.FrameIO;
import rtunnel.common.v2.FrameType;
import rtunnel.common.v2.Handshake;
import rtunnel.common.v2.Mux;
import rtunnel.common.v2.MuxListener;
import rtunnel.common.v2.MuxStream;
import rtunnel.common.v2.ProtocolException;
import rtunnel.common.v2.Reason;
import rtunnel.common.v2.V2Auth;

/**
 * The fixed side of a v2 link after TLS selected {@code rtunnel/2}: CHALLENGE, HELLO, then WELCOME
 * or REFUSE (docs/PROTOCOL.md). A welcomed link either starts a new tunnel, served on the calling
 * thread until it ends, or is attached to the live tunnel it takes over and the call returns.
 */
final class V2Accept {
    private static final Logger log = LoggerFactory.getLogger(V2Accept.class);

    private final Password password;
    private final AccessPolicy policy;
    private final TunnelRegistry registry;
    private final PortAllocator ports;
    private final DeviceRegistry devices;
    private final Duration pingInterval;
    private final Duration pingTimeout;

    V2Accept(Password password, AccessPolicy policy, TunnelRegistry registry, PortAllocator ports,
            DeviceRegistry devices, Duration pingInterval, Duration pingTimeout) {
        this.devices = devices;
        this.password = password;
        this.policy = policy;
        this.registry = registry;
        this.ports = ports;
        this.pingInterval = pingInterval;
        this.pingTimeout = pingTimeout;
    }

    /** @param authenticated called once the peer proved the password, before the tunnel is served */
    void serve(Socket raw, SSLSocket tls, String peer, Runnable authenticated) throws IOException, V1Handshake.Refused {
        InputStream in = tls.getInputStream();
        OutputStream out = tls.getOutputStream();
        byte[] serverNonce = V2Auth.nonce();
        FrameIO.write(out, FrameType.CHALLENGE, 0, new Handshake.Challenge(serverNonce).encode());
        Handshake.Hello hello;
        try {
            Frame f = FrameIO.read(in);
            if (f == null || f.type() != FrameType.HELLO || f.stream() != 0) {
                throw refuse(out, Reason.BAD_REQUEST, "expected HELLO");
            }
            hello = Handshake.Hello.decode(f.payload());
        } catch (SocketTimeoutException e) {
            throw new V1Handshake.Refused("sent no HELLO within the handshake time");
        } catch (ProtocolException e) {
            throw refuse(out, Reason.BAD_REQUEST, e.getMessage());
        }
        String hostname = hello.hostname();
        if (hostname.isEmpty() || !Printable.of(hostname).equals(hostname)) {
            throw refuse(out, Reason.BAD_REQUEST, "the hostname must be 1 to 64 printable characters");
        }
        Certificate[] ours = tls.getSession().getLocalCertificates();
        byte[] binding = V2Auth.channelBinding(ours[0]);
        byte[] key = password.secretBytes();
        try {
            byte[] expected = V2Auth.clientMac(key, binding, serverNonce, hello.nonce(), hello.requestedPort(),
                    hello.flags(), hostname);
            if (!V2Auth.equal(expected, hello.mac())) {
                refuse(out, Reason.BAD_PASSWORD, "");
                throw new V1Handshake.Refused("wrong password (hostname " + hostname + ", protocol 2)", true);
            }
            authenticated.run();
            java.security.cert.X509Certificate deviceCert = rtunnel.common.tls.TlsContexts.peerCertificate(tls);
            DeviceRegistry.Verdict verdict = devices.judge(deviceCert, hostname, raw.getInetAddress());
            if (verdict != DeviceRegistry.Verdict.ADMIT) {
                throw refuse(out, Reason.DEVICE_NOT_APPROVED, verdict == DeviceRegistry.Verdict.NO_KEY
                        ? "this server requires a device key (dynamic_rtunnel --device-keyfile)" : "");
            }
            String device = deviceCert == null ? null : rtunnel.common.tls.Fingerprints.sha256Base64(deviceCert);
            Welcomed w = place(out, hello, raw.getInetAddress(), device);
            byte[] proof = V2Auth.serverMac(key, binding, serverNonce, hello.nonce(), w.tunnel.id(), w.tunnel.port());
            Mux mux;
            try {
                raw.setSoTimeout(0);
                mux = new Mux(raw, in, out, new LinkEvents(w.tunnel), false, pingInterval, pingTimeout,
                        "tunnel-" + w.tunnel.id() + "-" + peer);
                FrameIO.write(out, FrameType.WELCOME, 0, new Handshake.Welcome(w.tunnel.id(), w.tunnel.port(),
                        (int) pingInterval.toSeconds(), (int) pingTimeout.toSeconds(), proof).encode());
            } catch (IOException | RuntimeException e) {
                if (w.takeover) {
                    w.tunnel.unreserve();
                } else {
                    w.tunnel.close();
                    registry.remove(w.tunnel.id());
                }
                throw e;
            }
            w.tunnel.attach(mux, raw.getInetAddress(), w.takeover);
            mux.start();
            if (w.takeover) {
                log.info("tunnel {}: new link from {} took over (hostname {})", w.tunnel.id(), peer, hostname);
                return;
            }
            try {
                w.tunnel.run();
            } finally {
                registry.remove(w.tunnel.id());
            }
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    private record Welcomed(V2Tunnel tunnel, boolean takeover) {
    }

    /**
     * Finds the tunnel taken over, or makes a new one with a port, or refuses. A link takes over a
     * live tunnel of its hostname when it says so (TAKEOVER with that tunnel's port: alarm
     * rotation, or a re-dial after the dynamic side saw its link die), or when that tunnel's link
     * has missed its pings, as after a restart behind a NAT that lost the old connection.
     */
    private Welcomed place(OutputStream out, Handshake.Hello hello, java.net.InetAddress remote, String device)
            throws IOException, V1Handshake.Refused {
        boolean takeover = (hello.flags() & Handshake.TAKEOVER) != 0;
        long silentAfter = pingInterval.toMillis() * 3 / 2;
        for (Tunnel t : registry.all()) {
            if (t instanceof V2Tunnel v2 && !v2.isClosed() && v2.hostname().equals(hello.hostname())
                    && java.util.Objects.equals(v2.deviceFingerprint(), device)) {
                if ((takeover && v2.port() == hello.requestedPort() || !takeover && v2.lastHeardMillis() > silentAfter)
                        && v2.reserve()) {
                    return new Welcomed(v2, true);
                }
            }
        }
        if (registry.full()) {
            throw refuse(out, Reason.SERVER_FULL, "");
        }
        java.net.ServerSocket port;
        try {
            port = bindPort(hello, takeover);
        } catch (PortAllocator.Refusal e) {
            throw refuse(out, e.outOfRange() ? Reason.PORT_OUT_OF_RANGE : Reason.PORT_TAKEN, e.getMessage());
        }
        V2Tunnel tunnel = new V2Tunnel(hello.hostname(), port, policy, remote);
        tunnel.device(device);
        if (registry.register(tunnel).isEmpty()) {
            tunnel.close();
            throw refuse(out, Reason.SERVER_FULL, "");
        }
        return new Welcomed(tunnel, false);
    }

    /** A takeover whose tunnel is gone only prefers its old port; a plain request insists on it. */
    private java.net.ServerSocket bindPort(Handshake.Hello hello, boolean takeover) throws PortAllocator.Refusal {
        try {
            return ports.bind(hello.hostname(), hello.requestedPort());
        } catch (PortAllocator.Refusal e) {
            if (takeover) {
                return ports.bind(hello.hostname(), 0);
            }
            throw e;
        }
    }

    /** Sends REFUSE and returns the exception that ends this connection's handling. */
    private static V1Handshake.Refused refuse(OutputStream out, Reason reason, String text) {
        try {
            FrameIO.write(out, FrameType.REFUSE, 0, new Handshake.Refuse(reason, text).encode());
            out.flush();
        } catch (IOException e) {
            // The peer is gone; the refusal is logged all the same.
        }
        return new V1Handshake.Refused(reason.words() + (text.isEmpty() ? "" : ": " + text) + " (protocol 2)");
    }

    /** Ties a link's events to its tunnel. */
    private static final class LinkEvents implements MuxListener {
        private final V2Tunnel tunnel;

        LinkEvents(V2Tunnel tunnel) {
            this.tunnel = tunnel;
        }

        @Override
        public void streamClosed(Mux mux, MuxStream stream) {
            tunnel.sessionClosed(stream);
        }

        @Override
        public void linkClosed(Mux mux, String why) {
            tunnel.linkClosed(mux, why);
        }
    }

    static String format(java.net.InetAddress a) {
        return IpAddresses.format(a);
    }
}
