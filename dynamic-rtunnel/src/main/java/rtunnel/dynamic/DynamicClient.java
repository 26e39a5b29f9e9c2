package rtunnel.dynamic;

import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.cli.RtunnelException;
import rtunnel.common.relay.Relay;
import rtunnel.common.tls.ServerCredentials;

/**
 * The reconnect loop: dial, serve the link until it ends, wait, dial again, for as long as the
 * program runs. Failures back off from 1 s to 30 s; at most one dial per second in any case,
 * so a server that accepts and closes at once cannot make a busy loop.
 *
 * <p>With a v2 server the alarm rotates links without a gap: a new link takes the tunnel over
 * (same id, same port) before the old one is retired, and sessions on the old one finish.
 */
final class DynamicClient {
    private static final Logger log = LoggerFactory.getLogger(DynamicClient.class);
    /** Upper bound on waiting for a rotation under way when the old link ends (dial + handshake). */
    private static final Duration ROTATION_WAIT = Duration.ofSeconds(30);
    static final Duration MIN_DIAL_SPACING = Duration.ofSeconds(1);

    private final DynamicConfig config;
    private final Dialer dialer;
    private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));
    /**
     * A refused or timed-out TCP connect costs the server nothing, and a server coming back from a
     * restart should see its tunnels again within a couple of seconds: those retries stay short.
     */
    private final Backoff connectBackoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(2));
    private final CountDownLatch stopping = new CountDownLatch(1);
    private volatile V1Link currentV1;
    private volatile V2Link currentV2;
    /** Guards {@link #rotating}; notified when a rotation ends. */
    private final Object rotation = new Object();
    /** True while the alarm dials and opens a new link; guarded by {@link #rotation}. */
    private boolean rotating;
    private volatile Socket dialing;
    /** The port of our last v2 tunnel: a re-dial asks to take that tunnel over, in case the server still holds it. */
    private volatile int lastPort;

    DynamicClient(DynamicConfig config) throws RtunnelException {
        this.config = config;
        String endpoint = config.remoteIp().getHostAddress() + ":" + config.remotePort();
        ServerCredentials device = null;
        if (config.deviceKeyFile() != null) {
            device = ServerCredentials.loadOrGenerate(config.deviceKeyFile(), config.deviceCertFile(), config.hostname());
            if (device.generated()) {
                log.info("generated device key {} and certificate {}", config.deviceKeyFile(), config.deviceCertFile());
            }
            log.info("presenting device key {} (approve it on the server with fixed_rtunnel --approve={})",
                    device.fingerprint(), device.fingerprint());
        }
        SSLContext tls = config.serverCheck().context(endpoint, device);
        this.dialer = new Dialer(config, tls);
    }

    /** Runs until {@link #stop()}. */
    void run() {
        log.info("starting: server {}, local service {}:{}, hostname {}, alarm {}, protocol {}", dialer.server(),
                config.localIp().getHostAddress(), config.localPort(), config.hostname(),
                config.alarm().isZero() ? "off" : config.alarm().toSeconds() + " s",
                config.protocol() == 0 ? "auto" : config.protocol());
        if (config.serverCheck().insecure()) {
            log.warn("the server's certificate is not verified (--insecure): anyone able to intercept the "
                    + "connection could pose as the server");
        } else {
            log.info("server verification: {}", config.serverCheck().description());
        }
        while (!stopped()) {
            long dialedAt = System.nanoTime();
            LinkOutcome outcome = once();
            Duration delay;
            if (outcome.healthy()) {
                backoff.reset();
                connectBackoff.reset();
                delay = Duration.ZERO;
            } else {
                delay = outcome == LinkOutcome.CONNECT_FAILED ? connectBackoff.next() : backoff.next();
                if (!stopped()) {
                    log.info("dialing again in {} s", delay.toSeconds());
                }
            }
            Duration spacing = MIN_DIAL_SPACING.minus(Duration.ofNanos(System.nanoTime() - dialedAt));
            pause(spacing.compareTo(delay) > 0 ? spacing : delay);
        }
        log.info("stopped");
    }

    private boolean stopped() {
        return stopping.getCount() == 0;
    }

    /** One dial and the life of what it brought. */
    private LinkOutcome once() {
        Dialer.Dialed d;
        try {
            d = dialer.dial(s -> dialing = s);
        } catch (Dialer.Failed e) {
            if (!stopped()) {
                log.warn("{}", e.getMessage());
            }
            return stopped() ? LinkOutcome.STOPPED : e.outcome();
        } finally {
            dialing = null;
        }
        if (stopped()) {
            d.close();
            return LinkOutcome.STOPPED;
        }
        if (d.v2()) {
            return runV2(d);
        }
        if (config.protocol() == 2) {
            d.close();
            log.error("{} speaks only protocol 1, and --protocol=2 was given", dialer.server());
            return LinkOutcome.REFUSED;
        }
        if (!config.password().fitsV1()) {
            d.close();
            log.error("{} speaks only protocol 1, which needs a --password of exactly 16 hex digits", dialer.server());
            return LinkOutcome.REFUSED;
        }
        V1Link link = new V1Link(config, d, dialer.server());
        currentV1 = link;
        if (stopped()) {
            link.close(LinkOutcome.STOPPED);
        }
        try {
            return link.run();
        } finally {
            currentV1 = null;
        }
    }

    private LinkOutcome runV2(Dialer.Dialed d) {
        V2Link link;
        try {
            int port = lastPort;
            link = V2Link.open(config, d, dialer.server(), port != 0 ? port : config.requestPort(), port != 0);
        } catch (IOException | V2Link.Refused e) {
            d.close();
            log.warn("{}", e.getMessage());
            return LinkOutcome.REFUSED;
        }
        currentV2 = link;
        lastPort = link.port();
        // A platform thread: it dials, and a socket a virtual thread has used is non-blocking for good.
        Thread alarm = config.alarm().isZero() ? null
                : Thread.ofPlatform().daemon(true).name("alarm").start(this::rotateForever);
        try {
            // Wait for the current link to end; after a rotation the current one is the new link.
            for (V2Link l = link; ; ) {
                while (!l.awaitEnd(Duration.ofSeconds(1))) {
                    if (stopped()) {
                        l.close("stopping");
                    }
                }
                V2Link next = successorOf(l);
                if (next == null) {
                    return stopped() ? LinkOutcome.STOPPED : LinkOutcome.LINK_LOST;
                }
                l = next;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return LinkOutcome.STOPPED;
        } finally {
            if (alarm != null) {
                alarm.interrupt();
            }
            V2Link last = currentV2;
            currentV2 = null;
            if (last != null) {
                last.close("stopping");
            }
        }
    }

    /**
     * The link that took over from {@code ended}, or null. An idle old link can end before the
     * alarm has recorded its successor: the server retires it (GOAWAY) as soon as the new link is
     * attached, which is right after the WELCOME the alarm thread is still reading. So a rotation
     * under way is waited for (its dial and handshake have their own time limits) rather than
     * taken for a lost link, which would reconnect and make a new tunnel.
     */
    private V2Link successorOf(V2Link ended) throws InterruptedException {
        long deadline = System.nanoTime() + ROTATION_WAIT.toNanos();
        synchronized (rotation) {
            while (rotating) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                TimeUnit.NANOSECONDS.timedWait(rotation, left);
            }
        }
        V2Link now = currentV2;
        return now == null || now == ended ? null : now;
    }

    private void rotating(boolean on) {
        synchronized (rotation) {
            rotating = on;
            rotation.notifyAll();
        }
    }

    /** Every --alarm seconds: a new link takes over the tunnel, then the old one is retired. */
    private void rotateForever() {
        while (!stopped()) {
            try {
                Thread.sleep(config.alarm());
            } catch (InterruptedException e) {
                return;
            }
            V2Link old = currentV2;
            if (old == null || stopped()) {
                return;
            }
            rotating(true);
            try {
                Dialer.Dialed d = dialer.dial(s -> { });
                if (!d.v2()) {
                    d.close();
                    log.warn("alarm: {} no longer speaks protocol 2; keeping the current link", dialer.server());
                    continue;
                }
                V2Link fresh = V2Link.open(config, d, dialer.server(), old.port(), true);
                if (fresh.tunnelId() != old.tunnelId()) {
                    log.warn("alarm: the server gave a new tunnel {} (port {}) instead of taking over tunnel {}",
                            fresh.tunnelId(), fresh.port(), old.tunnelId());
                }
                currentV2 = fresh;
                lastPort = fresh.port();
                old.retire();
                log.info("alarm: rotated to a new link (tunnel {}, port {})", fresh.tunnelId(), fresh.port());
            } catch (Dialer.Failed | IOException | V2Link.Refused e) {
                log.warn("alarm: cannot open a new link, keeping the current one: {}", e.getMessage());
            } finally {
                rotating(false);
            }
        }
    }

    private void pause(Duration d) {
        if (d.isNegative() || d.isZero()) {
            return;
        }
        try {
            stopping.await(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping.countDown();
        }
    }

    /** Ends the current link and the loop; safe from a shutdown hook. */
    void stop() {
        stopping.countDown();
        Relay.closeQuietly(dialing);
        V1Link v1 = currentV1;
        if (v1 != null) {
            v1.close(LinkOutcome.STOPPED);
        }
        V2Link v2 = currentV2;
        if (v2 != null) {
            v2.close("stopping");
        }
    }
}
