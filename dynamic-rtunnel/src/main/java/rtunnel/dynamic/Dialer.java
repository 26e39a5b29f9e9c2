package rtunnel.dynamic;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.protocol.V1;
import rtunnel.common.relay.LinkSocket;
import rtunnel.common.relay.Relay;
import rtunnel.common.relay.SocketTuning;
import rtunnel.common.tls.TlsContexts;
import rtunnel.common.v2.V2Wire;

/**
 * Steps 1-4 of both protocols: TCP, the clear TUNNEL01 exchange and the TLS handshake, offering
 * ALPN {@code rtunnel/2} unless v1 is forced. The ALPN answer says which protocol follows, so
 * telling an old server from a new one costs no extra dial and no extra round trip.
 */
final class Dialer {
    private static final Logger log = LoggerFactory.getLogger(Dialer.class);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    /** A link through TLS; {@code v2} when the server selected {@code rtunnel/2}. */
    record Dialed(Socket raw, SSLSocket tls, boolean v2) {
        void close() {
            Relay.closeQuietly(raw);
        }
    }

    /** Why a dial did not get through TLS. */
    static final class Failed extends Exception {
        private final LinkOutcome outcome;
        /** The server ended the TLS handshake with an alert. */
        final boolean tlsRefused;

        Failed(LinkOutcome outcome, String message) {
            this(outcome, message, false);
        }

        Failed(LinkOutcome outcome, String message, boolean tlsRefused) {
            super(message);
            this.outcome = outcome;
            this.tlsRefused = tlsRefused;
        }

        LinkOutcome outcome() {
            return outcome;
        }
    }

    private final DynamicConfig config;
    private final SSLContext tlsContext;
    private final String server;
    /** False once a server refused the hello offering only {@link TlsContexts#wrapClient}'s fast groups. */
    private volatile boolean narrowGroups = true;

    Dialer(DynamicConfig config, SSLContext tlsContext) {
        this.config = config;
        this.tlsContext = tlsContext;
        this.server = config.remoteIp().getHostAddress() + ":" + config.remotePort();
    }

    String server() {
        return server;
    }

    /**
     * Dials; {@code holder} receives the socket before connecting so another thread can abort the
     * dial by closing it.
     */
    Dialed dial(java.util.function.Consumer<Socket> holder) throws Failed {
        boolean narrow = narrowGroups;
        try {
            return dial(holder, narrow);
        } catch (Failed e) {
            if (!narrow || !e.tlsRefused) {
                throw e;
            }
            // Perhaps a server without X25519 (a FIPS-mode GnuTLS, say): offer every group from now on.
            narrowGroups = false;
            log.info("{}; dialing again offering every key exchange group", e.getMessage());
            return dial(holder, false);
        }
    }

    /**
     * An alert the server sent during the handshake (handshake_failure, or JSSE's unexpected_message
     * for "no common named group"): perhaps it takes none of the groups a narrow hello offers.
     */
    private static boolean serverAlert(IOException e) {
        return e instanceof javax.net.ssl.SSLException && e.getMessage() != null
                && e.getMessage().contains("Received fatal alert");
    }

    private Dialed dial(java.util.function.Consumer<Socket> holder, boolean narrow) throws Failed {
        // No timed call touches the socket (deadlines close it instead), so it stays blocking for
        // a v2 link's reader; the caller's thread is a platform one for the same reason.
        Socket raw = new LinkSocket();
        holder.accept(raw);
        try (Deadline deadline = new Deadline(raw, CONNECT_TIMEOUT)) {
            try {
                if (config.sourceIp() != null) {
                    raw.bind(new InetSocketAddress(config.sourceIp(), 0));
                }
                raw.connect(new InetSocketAddress(config.remoteIp(), config.remotePort()));
            } catch (IOException e) {
                Relay.closeQuietly(raw);
                throw new Failed(LinkOutcome.CONNECT_FAILED, "cannot connect to " + server + ": "
                        + (deadline.expired() ? "Connect timed out" : e.getMessage()));
            }
        }
        Deadline deadline = new Deadline(raw, V1.HANDSHAKE_TIMEOUT);
        try (deadline) {
            SocketTuning.tune(raw);
            raw.getOutputStream().write(V1.MAGIC);
            byte[] answer = raw.getInputStream().readNBytes(V1.MESSAGE_LENGTH);
            if (!Arrays.equals(answer, V1.MAGIC)) {
                throw new Failed(LinkOutcome.REFUSED, server + " closed the connection without answering TUNNEL01: "
                        + "is this address on its tunnel allowlist (fixed_rtunnel --addip-tunnel), is the server full "
                        + "(--maxtunnels), and is it a reverse tunnel server?");
            }
            SSLSocket tls = config.protocol() == 1
                    ? TlsContexts.wrapClient(tlsContext, raw, narrow)
                    : TlsContexts.wrapClient(tlsContext, raw, narrow, V2Wire.ALPN);
            tls.startHandshake();
            boolean v2 = V2Wire.ALPN.equals(tls.getApplicationProtocol());
            log.debug("TLS with {}: {} {}, protocol {}", server, tls.getSession().getProtocol(),
                    tls.getSession().getCipherSuite(), v2 ? 2 : 1);
            return new Dialed(raw, tls, v2);
        } catch (javax.net.ssl.SSLHandshakeException e) {
            Relay.closeQuietly(raw);
            if (deadline.expired()) {
                throw new Failed(LinkOutcome.REFUSED, "TLS handshake with " + server + " failed: Read timed out");
            }
            if (e.getCause() instanceof java.security.cert.CertificateException c) {
                log.error("{}", c.getMessage());
                throw new Failed(LinkOutcome.REFUSED, "refused to talk to " + server + ": its certificate failed "
                        + "verification (see the line above); no password or proof was sent");
            }
            throw new Failed(LinkOutcome.REFUSED, "TLS handshake with " + server + " failed: " + e.getMessage(),
                    serverAlert(e));
        } catch (IOException e) {
            Relay.closeQuietly(raw);
            throw new Failed(LinkOutcome.REFUSED, "handshake with " + server + " failed: "
                    + (deadline.expired() ? "Read timed out" : e.getMessage()), serverAlert(e));
        } catch (Failed e) {
            Relay.closeQuietly(raw);
            throw e;
        }
    }
}
