package rtunnel.dynamic;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.net.IpAddresses;
import rtunnel.common.relay.LinkSocket;
import rtunnel.common.relay.Relay;
import rtunnel.common.relay.SocketTuning;
import rtunnel.common.v2.Frame;
import rtunnel.common.v2.FrameIO;
import rtunnel.common.v2.FrameType;
import rtunnel.common.v2.Handshake;
import rtunnel.common.v2.Mux;
import rtunnel.common.v2.MuxListener;
import rtunnel.common.v2.MuxStream;
import rtunnel.common.v2.ProtocolException;
import rtunnel.common.v2.V2Auth;
import rtunnel.common.v2.V2Wire;

/**
 * One v2 link from the dynamic side (docs/PROTOCOL.md): answer the server's CHALLENGE with HELLO,
 * check the server's proof in WELCOME, then carry every stream the server opens to the local
 * service, each on its own threads, until the link ends.
 */
final class V2Link {
    private static final Logger log = LoggerFactory.getLogger(V2Link.class);
    private static final int LOCAL_CONNECT_TIMEOUT_MILLIS = 10_000;

    /** The server turned the link away; the message says why and is safe to log. */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    private final DynamicConfig config;
    private final String server;
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile Mux mux;
    private volatile long tunnelId;
    private volatile int port;
    private volatile String endReason = "";

    private V2Link(DynamicConfig config, String server) {
        this.config = config;
        this.server = server;
    }

    /**
     * Runs the v2 handshake on a dialed link and starts carrying streams.
     *
     * @param port the port to ask for, 0 for any
     * @param takeover true when this link replaces one of ours on the server (alarm rotation)
     */
    static V2Link open(DynamicConfig config, Dialer.Dialed dialed, String server, int port, boolean takeover)
            throws IOException, Refused {
        V2Link link = new V2Link(config, server);
        link.handshake(dialed, port, takeover);
        return link;
    }

    private void handshake(Dialer.Dialed d, int requestPort, boolean takeover) throws IOException, Refused {
        Socket raw = d.raw();
        InputStream in = d.tls().getInputStream();
        OutputStream out = d.tls().getOutputStream();
        byte[] key = config.password().secretBytes();
        Deadline deadline = new Deadline(raw, V2Wire.HANDSHAKE_TIMEOUT); // not a read timeout: see Deadline
        try (deadline) {
            Frame f = read(in, FrameType.CHALLENGE);
            Handshake.Challenge challenge = Handshake.Challenge.decode(f.payload());
            byte[] binding = V2Auth.channelBinding(d.tls().getSession().getPeerCertificates()[0]);
            byte[] clientNonce = V2Auth.nonce();
            int flags = takeover ? Handshake.TAKEOVER : 0;
            byte[] mac = V2Auth.clientMac(key, binding, challenge.nonce(), clientNonce, requestPort, flags,
                    config.hostname());
            FrameIO.write(out, FrameType.HELLO, 0,
                    new Handshake.Hello(clientNonce, mac, requestPort, flags, config.hostname()).encode());
            Frame answer = read(in, null);
            if (answer.type() == FrameType.REFUSE) {
                Handshake.Refuse r = Handshake.Refuse.decode(answer.payload());
                throw new Refused(server + " refused the tunnel: " + r.reason().words()
                        + (r.text().isEmpty() ? "" : " (" + r.text() + ")"));
            }
            if (answer.type() != FrameType.WELCOME) {
                throw new ProtocolException("expected WELCOME or REFUSE, got " + answer.type());
            }
            Handshake.Welcome w = Handshake.Welcome.decode(answer.payload());
            byte[] proof = V2Auth.serverMac(key, binding, challenge.nonce(), clientNonce, w.tunnelId(), w.port());
            if (!V2Auth.equal(proof, w.mac())) {
                throw new Refused(server + " could not prove it knows the password; dropping it");
            }
            tunnelId = w.tunnelId();
            port = w.port();
            Duration interval = Duration.ofSeconds(Math.max(1, w.pingIntervalSeconds()));
            Duration timeout = Duration.ofSeconds(Math.max(w.pingIntervalSeconds() + 1, w.pingTimeoutSeconds()));
            deadline.close();
            if (raw instanceof LinkSocket link) {
                link.keepBlocking(); // the link's reader waits in one read, on a platform thread
            }
            mux = new Mux(raw, in, out, new Streams(), true, interval, timeout, "link-" + tunnelId);
            mux.start();
            log.info("connected to {} as {} (protocol 2, {}): tunnel {} on port {}", server, config.hostname(),
                    d.tls().getSession().getProtocol(), tunnelId, port);
        } catch (IOException e) {
            if (!deadline.expired()) {
                throw e;
            }
            throw new IOException("the server did not finish the v2 handshake within "
                    + V2Wire.HANDSHAKE_TIMEOUT.toSeconds() + " s");
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    private static Frame read(InputStream in, FrameType expected) throws IOException {
        Frame f = FrameIO.read(in);
        if (f == null) {
            throw new IOException("the server closed the link during the v2 handshake");
        }
        if (expected != null && f.type() != expected) {
            throw new ProtocolException("expected " + expected + ", got " + f.type());
        }
        return f;
    }

    long tunnelId() {
        return tunnelId;
    }

    int port() {
        return port;
    }

    /** Waits until the link has ended, or the time is up; true if it ended. */
    boolean awaitEnd(Duration d) throws InterruptedException {
        return ended.await(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    String endReason() {
        return endReason;
    }

    /** Rotation: tell the server to open no more streams here, and close once the last one ends. */
    void retire() {
        log.info("link to tunnel {}: retiring; {} sessions still in flight", tunnelId, mux.activeStreams());
        mux.goAway();
    }

    void close(String why) {
        Mux m = mux;
        if (m != null) {
            m.close(why);
        }
    }

    /** Carries each stream the server opens to the local service. */
    private final class Streams implements MuxListener {
        @Override
        public void opened(Mux m, MuxStream stream) {
            InetSocketAddress client = stream.info().client();
            Socket s;
            try {
                // Through a channel, so the link's reader can write to it without blocking.
                s = SocketChannel.open().socket();
            } catch (IOException e) {
                stream.abort(true);
                return;
            }
            try {
                s.connect(new InetSocketAddress(config.localIp(), config.localPort()), LOCAL_CONNECT_TIMEOUT_MILLIS);
                SocketTuning.tune(s);
                if (config.proxyProtocol() != 0) {
                    s.getOutputStream().write(ProxyHeader.encode(config.proxyProtocol(), client, stream.info().server()));
                }
            } catch (IOException e) {
                log.warn("session {} from {}: cannot connect to the local service {}:{}: {}", stream.id(),
                        IpAddresses.format(client.getAddress()), config.localIp().getHostAddress(), config.localPort(),
                        e.getMessage());
                Relay.closeQuietly(s);
                stream.abort(true);
                return;
            }
            log.info("session {} from {}:{} started", stream.id(), IpAddresses.format(client.getAddress()),
                    client.getPort());
            stream.attach(s);
        }

        @Override
        public void streamClosed(Mux m, MuxStream stream) {
            log.info("session {} ended: {} bytes to the service, {} bytes to the client, {} ms", stream.id(),
                    stream.bytesFromPeer(), stream.bytesToPeer(), stream.ageNanos() / 1_000_000);
        }

        @Override
        public void linkClosed(Mux m, String why) {
            endReason = why;
            log.info("link to tunnel {} on {} closed: {}", tunnelId, server, why);
            ended.countDown();
        }
    }
}
