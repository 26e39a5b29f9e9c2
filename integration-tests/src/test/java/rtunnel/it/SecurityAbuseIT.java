package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.EchoService;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.SecLogs;
import rtunnel.it.support.V1Peer;

/**
 * Acceptance 6: limits against abuse. 500 idle connections to the TLS port (from one allowed
 * address, and spread over 50 allowed addresses) do not keep a real tunnel from another address
 * out for more than 5 s; a wrong-password loop from one address is slowed down (back-off after
 * three failures) while another address connects as usual.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SecurityAbuseIT {

    /** 16 hex digits: the wrong-password loop is played by a v1 peer. */
    private static final String PASSWORD = SecLogs.password(8);
    private static final String WRONG = SecLogs.password(8);
    private static final int IDLE = 500;
    private static final Duration REAL_TUNNEL_WITHIN = Duration.ofSeconds(5);
    /** The per-address cap on handshakes not yet authenticated (documented as 16). */
    private static final int PER_ADDRESS_PENDING = 16;

    @TempDir
    Path tmp;

    private FixedServer fixed;
    private EchoService service;
    private final List<Socket> idle = new ArrayList<>();

    @AfterEach
    void stopAll() throws IOException {
        for (Socket s : idle) {
            s.close();
        }
        if (fixed != null) {
            fixed.close();
        }
        if (service != null) {
            service.close();
        }
        SecLogs.assertNoSecretsInLogs(tmp, List.of(PASSWORD, WRONG));
    }

    @Test
    void fiveHundredIdleConnectionsFromOneAddressDoNotKeepARealTunnelOut() throws Exception {
        startServer("--addip-tunnel=127.0.0.2", "--addip-tunnel=127.0.0.3");
        openIdle(List.of(Launchers.addr("127.0.0.2")));

        long t0 = System.nanoTime();
        fixed.startDynamic("--source-ip=127.0.0.3", "--localport=" + service.port(), "--hostname=real");
        Tunnel t = fixed.awaitTunnel(REAL_TUNNEL_WITHIN, x -> x.hostname().equals("real"),
                "the real tunnel from 127.0.0.3 within " + REAL_TUNNEL_WITHIN + " while " + IDLE + " idle connections are open");
        System.out.printf("real tunnel up %d ms after start, beside %d idle connections%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), IDLE);
        assertEquals("127.0.0.3", t.remoteip());

        // The flood from one address is capped: all but a few were closed by the server at once.
        int open = stillOpen();
        assertTrue(open <= PER_ADDRESS_PENDING, open + " of " + IDLE + " idle connections from one address are still"
                + " open; at most " + PER_ADDRESS_PENDING + " should wait for a handshake");
    }

    @Test
    void fiveHundredIdleConnectionsFromFiftyAddressesDoNotKeepARealTunnelOut() throws Exception {
        startServer("--addip-tunnel=127.0.1.0/24", "--addip-tunnel=127.0.0.3");
        List<InetAddress> sources = new ArrayList<>();
        for (int i = 1; i <= 50; i++) {
            sources.add(Launchers.addr("127.0.1." + i));
        }
        openIdle(sources);

        long t0 = System.nanoTime();
        fixed.startDynamic("--source-ip=127.0.0.3", "--localport=" + service.port(), "--hostname=real");
        fixed.awaitTunnel(REAL_TUNNEL_WITHIN, x -> x.hostname().equals("real"),
                "the real tunnel from 127.0.0.3 within " + REAL_TUNNEL_WITHIN + " while " + IDLE
                        + " idle connections from 50 addresses are open");
        System.out.printf("real tunnel up %d ms after start, beside %d idle connections from 50 addresses%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), IDLE);
    }

    @Test
    void wrongPasswordLoopFromOneAddressIsSlowedWhileAnotherAddressConnects() throws Exception {
        startServer("--addip-tunnel=127.0.0.4", "--addip-tunnel=127.0.0.5");
        InetAddress attacker = Launchers.addr("127.0.0.4");
        AtomicInteger authTried = new AtomicInteger();
        AtomicInteger turnedAway = new AtomicInteger();
        AtomicReference<Outcome> afterLoop = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread loop = Thread.ofPlatform().name("wrong-password-loop").start(() -> {
            try {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
                for (int i = 0; i < 400 && System.nanoTime() < end; i++) {
                    switch (tryWrongPassword(attacker)) {
                        case AUTH_TRIED -> authTried.incrementAndGet();
                        case TURNED_AWAY -> turnedAway.incrementAndGet();
                        default -> throw new AssertionError("a wrong password got a tunnel");
                    }
                    Thread.sleep(10);
                }
                // Even the right password does not help the attacker's address during its back-off.
                afterLoop.set(tryPassword(attacker, V1Peer.password(PASSWORD)));
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        try {
            Procs.waitFor(Duration.ofSeconds(10), () -> authTried.get() >= 3 || !loop.isAlive(),
                    "three wrong passwords from 127.0.0.4");
            // Another address, while the attacker is in its back-off.
            fixed.startDynamic("--source-ip=127.0.0.5", "--localport=" + service.port(), "--hostname=other");
            Tunnel t = fixed.awaitTunnel(REAL_TUNNEL_WITHIN, x -> x.hostname().equals("other"),
                    "the tunnel from 127.0.0.5 within " + REAL_TUNNEL_WITHIN + ", unaffected by the back-off of 127.0.0.4");
            assertEquals("127.0.0.5", t.remoteip());
        } finally {
            loop.join(Duration.ofSeconds(30));
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get().getMessage() + "\n" + fixed.describe(), failure.get());
        }
        assertTrue(!loop.isAlive(), "the wrong-password loop did not end");
        int attempts = authTried.get() + turnedAway.get();
        System.out.printf("wrong-password loop: %d attempts in 4 s, %d reached the password check, %d turned away%n",
                attempts, authTried.get(), turnedAway.get());
        // Free rein would be one password check per attempt; the back-off (1 s after 3 failures,
        // then 2 s) allows about 5 in 4 s.
        assertTrue(authTried.get() >= 3, "the first three wrong passwords must be checked normally: " + authTried);
        assertTrue(authTried.get() <= 8, authTried + " wrong passwords checked in 4 s (of " + attempts
                + " attempts): not slowed down");
        assertTrue(turnedAway.get() >= 10, "only " + turnedAway + " attempts were turned away");
        assertTrue(fixed.log().contains("too many wrong passwords from this address"), fixed::log);
        assertEquals(Outcome.TURNED_AWAY, afterLoop.get(), "the right password from the address in back-off");
    }

    private enum Outcome { TURNED_AWAY, AUTH_TRIED, ADMITTED }

    private Outcome tryWrongPassword(InetAddress from) {
        return tryPassword(from, V1Peer.password(WRONG));
    }

    /** One v1 attempt: closed before or at the greeting, closed after the auth block, or a tunnel (START/keepalive wait). */
    private Outcome tryPassword(InetAddress from, byte[] password) {
        V1Peer.Client c;
        try {
            c = V1Peer.Client.open(from, FixedServer.LOCAL, fixed.port());
        } catch (IOException e) {
            return Outcome.TURNED_AWAY;
        }
        try (c) {
            try {
                c.greet().startTls();
            } catch (IOException e) {
                return Outcome.TURNED_AWAY;
            }
            c.sendAuth(password, "guess");
            try {
                c.readMessage(Duration.ofSeconds(3));
                return Outcome.ADMITTED;
            } catch (SocketTimeoutException e) {
                return Outcome.ADMITTED; // waiting for a client: a tunnel
            } catch (IOException e) {
                return Outcome.AUTH_TRIED;
            }
        } catch (IOException e) {
            return Outcome.AUTH_TRIED;
        }
    }

    private void startServer(String... allow) throws IOException {
        service = EchoService.start(FixedServer.LOCAL, "ABUSE READY\n".getBytes(US_ASCII));
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD);
        fixed.controlOk(allow);
    }

    /** Opens {@link #IDLE} connections round-robin from {@code sources}; half greet, then all stay silent. */
    private void openIdle(List<InetAddress> sources) throws IOException {
        for (int i = 0; i < IDLE; i++) {
            Socket s = new Socket();
            idle.add(s);
            s.bind(new InetSocketAddress(sources.get(i % sources.size()), 0));
            try {
                s.connect(new InetSocketAddress(FixedServer.LOCAL, fixed.port()), 5000);
                if (i % 2 == 1) {
                    s.getOutputStream().write(V1Peer.GREETING.getBytes(US_ASCII));
                }
            } catch (IOException e) {
                // A full backlog or an early close is the server defending itself: fine for a flood.
            }
        }
    }

    /** How many idle connections the server has not closed. */
    private int stillOpen() throws IOException {
        int open = 0;
        for (Socket s : idle) {
            if (s.isClosed() || !s.isConnected()) {
                continue;
            }
            s.setSoTimeout(1);
            try {
                // Skip a greeting answer, if one came; then end of stream means closed.
                while (true) {
                    if (s.getInputStream().read() < 0) {
                        break;
                    }
                }
            } catch (SocketTimeoutException e) {
                open++;
            } catch (IOException e) {
                // reset: closed
            }
        }
        return open;
    }
}
