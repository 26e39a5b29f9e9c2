package rtunnel.dynamic;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import javax.net.ssl.SSLSocket;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.protocol.V1;
import rtunnel.common.relay.LinkSocket;
import rtunnel.common.relay.Relay;
import rtunnel.common.relay.SocketTuning;

/**
 * One v1 link to the fixed side (SPEC A3 from the dynamic side), after {@link Dialer}: the 16-byte
 * password and hostname block, then keepalives until START, then one session relayed to the
 * local service. {@link #run()} returns how it ended.
 */
final class V1Link {
    private static final Logger log = LoggerFactory.getLogger(V1Link.class);
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    /** A link the server drops this soon after authentication was most likely refused. */
    private static final long REFUSAL_WINDOW_NANOS = 2_000_000_000L;

    private final DynamicConfig config;
    private final Dialer.Dialed dialed;
    private final String server;
    private final Socket raw;
    private final AtomicReference<LinkOutcome> forced = new AtomicReference<>();
    private volatile Socket local;
    private volatile boolean inSession;
    private boolean authenticated;

    /** Continues a dialed link whose TLS handshake chose no ALPN: the server speaks v1. */
    V1Link(DynamicConfig config, Dialer.Dialed dialed, String server) {
        this.config = config;
        this.dialed = dialed;
        this.raw = dialed.raw();
        this.server = server;
    }

    LinkOutcome run() {
        Thread alarm = startAlarm();
        try {
            return serve();
        } catch (IOException e) {
            LinkOutcome why = forced.get();
            if (why != null) {
                return why;
            }
            log.warn("link to {} failed: {}", server, e.getMessage());
            return authenticated ? LinkOutcome.LINK_LOST : LinkOutcome.REFUSED;
        } finally {
            close(LinkOutcome.STOPPED);
            if (alarm != null) {
                alarm.interrupt();
            }
        }
    }

    private LinkOutcome serve() throws IOException {
        SSLSocket tls = dialed.tls();
        byte[] auth = V1.authBlock(config.password(), config.hostname());
        try {
            OutputStream out = tls.getOutputStream();
            out.write(auth);
            out.flush();
        } finally {
            Arrays.fill(auth, (byte) 0);
        }
        authenticated = true;
        long upAt = System.nanoTime();
        log.info("connected to {} as {} ({}); waiting for clients", server, config.hostname(),
                tls.getSession().getProtocol());
        raw.setSoTimeout((int) V1.SILENCE_LIMIT.toMillis());
        return awaitStart(tls, upAt);
    }

    private LinkOutcome awaitStart(SSLSocket tls, long upAt) throws IOException {
        InputStream in = tls.getInputStream();
        while (true) {
            byte[] message;
            try {
                message = in.readNBytes(V1.MESSAGE_LENGTH);
            } catch (SocketTimeoutException e) {
                log.warn("no word from {} for {} min; reconnecting", server, V1.SILENCE_LIMIT.toMinutes());
                return LinkOutcome.LINK_LOST;
            }
            if (message.length < V1.MESSAGE_LENGTH) {
                if (forced.get() != null) {
                    return forced.get();
                }
                if (System.nanoTime() - upAt < REFUSAL_WINDOW_NANOS) {
                    log.warn("{} closed the link right after authentication: wrong --password, or the "
                            + "server is full (--maxtunnels)?", server);
                    return LinkOutcome.REFUSED;
                }
                log.info("{} closed the link", server);
                return LinkOutcome.LINK_LOST;
            }
            if (Arrays.equals(message, V1.KEEPALIVE)) {
                log.debug("keepalive from {}", server);
            } else if (Arrays.equals(message, V1.START)) {
                return session(tls);
            } else {
                log.warn("{} sent an unknown message; dropping the link", server);
                return LinkOutcome.REFUSED;
            }
        }
    }

    private LinkOutcome session(SSLSocket tls) throws IOException {
        inSession = true;
        String service = config.localIp().getHostAddress() + ":" + config.localPort();
        Socket s = new Socket();
        local = s;
        try {
            s.connect(new InetSocketAddress(config.localIp(), config.localPort()), CONNECT_TIMEOUT_MILLIS);
        } catch (IOException e) {
            log.warn("cannot connect to the local service {}: {}; dropping this client", service, e.getMessage());
            return LinkOutcome.LOCAL_FAILED;
        }
        SocketTuning.tune(s);
        raw.setSoTimeout(0);
        long started = System.nanoTime();
        log.info("session started: relaying to {}", service);
        AtomicLong toLocal = new AtomicLong();
        AtomicLong toServer = new AtomicLong();
        try {
            Relay.bothWays(tls, s, toLocal, toServer, raw instanceof LinkSocket l ? l : null,
                    () -> close(LinkOutcome.SESSION_ENDED));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info("session ended: {} bytes to {}, {} bytes to the server, {} ms", toLocal.get(), service,
                toServer.get(), (System.nanoTime() - started) / 1_000_000);
        return LinkOutcome.SESSION_ENDED;
    }

    private Thread startAlarm() {
        if (config.alarm().isZero()) {
            return null;
        }
        return Thread.ofVirtual().name("alarm").start(() -> {
            try {
                Thread.sleep(config.alarm());
            } catch (InterruptedException e) {
                return;
            }
            if (inSession) {
                // Unlike the original, a session in progress is not cut: its end redials anyway.
                log.info("alarm: a session is in progress; reconnecting when it ends");
            } else {
                log.info("alarm: reconnecting after {} s", config.alarm().toSeconds());
                close(LinkOutcome.ALARM);
            }
        });
    }

    /** Ends the link from any thread; the first reason given is the one {@link #run()} reports. */
    void close(LinkOutcome why) {
        forced.compareAndSet(null, why);
        Relay.closeQuietly(local);
        Relay.closeQuietly(raw);
    }
}
