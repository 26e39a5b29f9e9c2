package rtunnel.dynamic;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.cli.RtunnelException;
import rtunnel.common.tls.TlsContexts;

/**
 * The reconnect loop: dial, serve the link until it ends, wait, dial again, for as long as the
 * program runs. Failures back off from 1 s to 30 s; at most one dial per second in any case,
 * so a server that accepts and closes at once cannot make a busy loop.
 */
final class DynamicClient {
    private static final Logger log = LoggerFactory.getLogger(DynamicClient.class);
    static final Duration MIN_DIAL_SPACING = Duration.ofSeconds(1);

    private final DynamicConfig config;
    private final SSLContext tls;
    private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));
    private final CountDownLatch stopping = new CountDownLatch(1);
    private volatile V1Link current;

    DynamicClient(DynamicConfig config) throws RtunnelException {
        this.config = config;
        this.tls = TlsContexts.trustAll();
    }

    /** Runs until {@link #stop()}. */
    void run() {
        log.info("starting: server {}:{}, local service {}:{}, hostname {}, alarm {}", 
                config.remoteIp().getHostAddress(), config.remotePort(), config.localIp().getHostAddress(),
                config.localPort(), config.hostname(),
                config.alarm().isZero() ? "off" : config.alarm().toSeconds() + " s");
        log.warn("the server's certificate is not verified (protocol v1 behaviour): "
                + "anyone able to intercept the connection could pose as the server");
        while (stopping.getCount() > 0) {
            long dialedAt = System.nanoTime();
            V1Link link = new V1Link(config, tls);
            current = link;
            if (stopping.getCount() == 0) {
                break;
            }
            LinkOutcome outcome = link.run();
            current = null;
            Duration delay;
            if (outcome.healthy()) {
                backoff.reset();
                delay = Duration.ZERO;
            } else {
                delay = backoff.next();
                log.info("dialing again in {} s", delay.toSeconds());
            }
            Duration sinceDial = Duration.ofNanos(System.nanoTime() - dialedAt);
            Duration spacing = MIN_DIAL_SPACING.minus(sinceDial);
            if (spacing.compareTo(delay) > 0) {
                delay = spacing;
            }
            pause(delay);
        }
        log.info("stopped");
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
        V1Link link = current;
        if (link != null) {
            link.close(LinkOutcome.STOPPED);
        }
    }
}
