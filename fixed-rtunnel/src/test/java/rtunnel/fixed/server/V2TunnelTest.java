package rtunnel.fixed.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import rtunnel.common.net.AddressRange;
import rtunnel.common.v2.Mux;
import rtunnel.common.v2.MuxListener;
import rtunnel.common.v2.MuxStream;

/**
 * A v2 tunnel over real mux links on loopback TCP, with a real echo service: which thread accepts
 * its clients, and a client that comes in the middle of a takeover.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class V2TunnelTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private static final Duration PING = Duration.ofSeconds(30);

    private final List<AutoCloseable> closeMe = new ArrayList<>();
    private final List<Mux> muxes = new ArrayList<>();
    private ServerSocket service;
    private ServerSocket port;

    @AfterEach
    void tearDown() throws Exception {
        for (Mux m : muxes) {
            m.close("test over");
        }
        for (AutoCloseable c : closeMe) {
            c.close();
        }
    }

    /**
     * After a client, the next ones are accepted on a platform thread from the budget, which gives
     * way to the tunnel's virtual thread after a quiet spell of two seconds; clients are served
     * throughout.
     */
    @Test
    void clientsAfterTheFirstAreAcceptedOnAPlatformThreadUntilAQuietSpell() throws Exception {
        V2Tunnel tunnel = tunnel("busy");
        tunnel.assignId(7);
        tunnel.attach(link(service)[0], LO, false);
        Thread.ofVirtual().start(tunnel::run);
        echoThrough(port, "the first client");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (acceptThread() == null && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        Thread hot = acceptThread();
        assertTrue(hot != null && !hot.isVirtual(), "a platform thread accepts after the first client");
        echoThrough(port, "the second client");
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (acceptThread() != null && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertNull(acceptThread(), "it gave way after a quiet spell");
        echoThrough(port, "a client after the quiet spell");
        tunnel.close();
    }

    /** The platform thread accepting for tunnel 7, or null. */
    private static Thread acceptThread() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> "tunnel-7-accept".equals(t.getName()))
                .findFirst().orElse(null);
    }

    @Test
    void aClientInTheMomentOfATakeoverGetsTheNewLink() throws Exception {
        V2Tunnel tunnel = tunnel("rotating");
        Mux[] old = link(service);
        tunnel.attach(old[0], LO, false);
        Thread.ofVirtual().start(tunnel::run);
        echoThrough(port, "before the rotation");

        // The new link's handshake has begun (reserved); the dynamic side already retired the old one.
        assertTrue(tunnel.reserve());
        old[1].goAway();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!old[0].draining() && !old[0].closed() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(old[0].draining() || old[0].closed(), "the old link took the GOAWAY");

        Mux[] fresh = link(service);
        Thread.ofVirtual().start(() -> {
            sleep(300);
            tunnel.attach(fresh[0], LO, true);
        });
        echoThrough(port, "during the rotation");
        echoThrough(port, "after the rotation");
        tunnel.close();
    }

    /** A tunnel on a fresh {@link #port} whose links' streams reach a fresh echo {@link #service}. */
    private V2Tunnel tunnel(String hostname) throws IOException {
        service = listen();
        Thread.ofVirtual().start(() -> echoAll(service));
        AccessPolicy policy = new AccessPolicy(false);
        policy.clients().add(AddressRange.of(LO));
        port = listen();
        return new V2Tunnel(hostname, port, policy, LO);
    }

    private ServerSocket listen() throws IOException {
        ServerSocket s = new ServerSocket(0, 50, LO);
        closeMe.add(s);
        return s;
    }

    /** A started pair: {fixed side, dynamic side}; the dynamic side connects its streams to {@code service}. */
    private Mux[] link(ServerSocket service) throws IOException {
        ServerSocket l = listen();
        Socket dyn = new Socket(LO, l.getLocalPort());
        Socket fix = l.accept();
        closeMe.add(dyn);
        closeMe.add(fix);
        Mux dynamicSide = new Mux(dyn, dyn.getInputStream(), dyn.getOutputStream(), new MuxListener() {
            @Override
            public void opened(Mux mux, MuxStream stream) {
                try {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress(LO, service.getLocalPort()));
                    stream.attach(s);
                } catch (IOException e) {
                    stream.abort(true);
                }
            }
        }, true, PING, PING, "dyn");
        Mux fixedSide = new Mux(fix, fix.getInputStream(), fix.getOutputStream(), new MuxListener() {
        }, false, PING, PING, "fix");
        dynamicSide.start();
        fixedSide.start();
        muxes.add(fixedSide);
        muxes.add(dynamicSide);
        return new Mux[] {fixedSide, dynamicSide};
    }

    private static void echoThrough(ServerSocket port, String text) throws IOException {
        byte[] msg = text.getBytes(StandardCharsets.US_ASCII);
        try (Socket c = new Socket(LO, port.getLocalPort())) {
            c.setSoTimeout(10_000);
            c.getOutputStream().write(msg);
            c.shutdownOutput();
            InputStream in = c.getInputStream();
            assertArrayEquals(msg, in.readAllBytes(), "echo " + text);
        }
    }

    private static void echoAll(ServerSocket service) {
        while (!service.isClosed()) {
            try {
                Socket s = service.accept();
                Thread.ofVirtual().start(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                        s.shutdownOutput();
                    } catch (IOException e) {
                        // The test reports what it did not get back.
                    }
                });
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
