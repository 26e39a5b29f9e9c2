package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.EchoService;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.Sha256;
import rtunnel.it.support.V1Peer;

/**
 * Acceptance 4: wire protocol v1 byte for byte, against independent stand-ins for the original
 * C programs ({@link V1Peer}): the original dynamic side against our fixed_rtunnel, and our
 * dynamic_rtunnel against the original fixed side.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class V1WireIT {

    private static final String PASSWORD = "0f1e2d3c4b5a6978";
    private static final int MEGABYTE = 1024 * 1024;
    private static final Duration IO = Duration.ofSeconds(15);

    @TempDir
    Path tmp;

    private FixedServer fixed;
    private V1Peer.Server v1server;
    private EchoService service;
    private Procs dynamic;

    @AfterEach
    void stopAll() throws IOException {
        if (dynamic != null) {
            dynamic.stop();
        }
        if (fixed != null) {
            fixed.close();
        }
        if (v1server != null) {
            v1server.close();
        }
        if (service != null) {
            service.close();
        }
    }

    @Test
    void originalDynamicSideGetsATunnelFromOurServer() throws Exception {
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD);
        fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-client=127.0.0.3");

        V1Peer.Client v1 = V1Peer.Client.open(Launchers.addr("127.0.0.2"), FixedServer.LOCAL, fixed.port());
        try {
            v1.greet(); // fails unless the server answers TUNNEL01 in clear
            v1.startTls();
            assertEquals("TLSv1.3", v1.tls().getSession().getProtocol());
            String alpn = v1.tls().getApplicationProtocol();
            assertTrue(alpn == null || alpn.isEmpty(), "no ALPN was offered, none may be selected: " + alpn);
            v1.sendAuth(V1Peer.password(PASSWORD), "harness-long-name");

            Tunnel t = fixed.awaitTunnel(Duration.ofSeconds(10), x -> true, "the v1 client's tunnel");
            assertEquals("harness-", t.hostname(), () -> "hostname cut to 8 bytes: " + t.line());
            assertEquals("127.0.0.2", t.remoteip(), t::line);
            assertEquals(1, t.protocol(), t::line);

            try (Socket client = EchoService.connectFrom(Launchers.addr("127.0.0.3"), FixedServer.LOCAL, t.port(), IO)) {
                assertEquals(V1Peer.START, v1.readMessage(IO), "an allowed client makes the server send start");
                exchange(client.getOutputStream(), client.getInputStream(), v1.out(), v1.in());

                // The original ends a session with a TCP close and no close_notify.
                v1.closeAbruptly();
                assertEquals(-1, readEnd(client.getInputStream()), "the client sees the session end");
            }
            fixed.awaitNoTunnel(Duration.ofSeconds(10), x -> x.id() == t.id(), "the tunnel gone after the v1 peer closed");
            assertTrue(fixed.isAlive(), fixed::describe);
            assertEquals("IP: 127.0.0.3\n", fixed.controlOk("--list-allowed-clients"));
            String log = fixed.log();
            assertFalse(log.contains(" ERROR ") || log.contains("\tat "),
                    () -> "a TCP close without close_notify is an ordinary end, not an error:\n" + log);
        } finally {
            v1.closeAbruptly();
        }
    }

    @Test
    void ourDynamicSideIsServedByTheOriginalServer() throws Exception {
        v1server = new V1Peer.Server(FixedServer.LOCAL, 0, resource("v1peer.key"), resource("v1peer.cert"));
        service = EchoService.start(FixedServer.LOCAL, new byte[0]);
        dynamic = Procs.start(tmp, "dynamic", List.of(Launchers.dynamicRtunnel().toString(), "--debug", "--notroot",
                "--remoteip=127.0.0.1", "--remoteport=" + v1server.port(), "--localport=" + service.port(),
                "--password=" + PASSWORD, "--hostname=camera-box-7", "--source-ip=127.0.0.2",
                "--known-servers=" + tmp.resolve("known_servers")));

        V1Peer.Conn first = accept();
        assertEquals(V1Peer.GREETING, v1server.greetings().poll(), "first greeting");
        assertArrayEquals(V1Peer.password(PASSWORD), first.auth().password(),
                () -> "the auth block must carry --password (the original always sent PaSsWoRd): " + first.auth());
        assertEquals("camera-b", first.auth().hostname());
        assertEquals("127.0.0.2", first.auth().peer().getHostAddress(), "--source-ip");

        first.sendKeepalive();
        Thread.sleep(1500);
        assertTrue(dynamic.isAlive(), dynamic::output);
        assertTrue(v1server.greetings().isEmpty(), () -> "a keepalive must not make the dynamic side dial again: "
                + v1server.greetings() + "\n" + dynamic.output());
        assertEquals(0, service.connections(), "nothing reaches the service before start");

        first.sendStart();
        service.awaitConnections(1, Duration.ofSeconds(10));
        byte[] data = Sha256.randomBytes(MEGABYTE, System.nanoTime());
        OutputStream toDynamic = first.out();
        Thread writer = Thread.ofVirtual().start(() -> write(toDynamic, data));
        first.tls().setSoTimeout((int) IO.toMillis());
        byte[] echoed = first.in().readNBytes(data.length);
        assertTrue(writer.join(IO), "writer finished");
        assertEquals(Sha256.hex(data), Sha256.hex(echoed), "1 MB through the dynamic side to its service and back");

        first.closeAbruptly();
        Procs.waitFor(Duration.ofSeconds(10), () -> service.finished() >= 1, "the service connection closed with the tunnel");
        V1Peer.Conn second = accept();
        assertArrayEquals(V1Peer.password(PASSWORD), second.auth().password());
        assertEquals("camera-b", second.auth().hostname());
        second.closeAbruptly();
    }

    /**
     * Our client's first hello offers only X25519 and X448 (one key share: cheaper for a fresh JVM).
     * An old server that takes neither, as a GnuTLS built without them would, refuses that hello;
     * the client must dial again at once offering every group, and stay with that.
     */
    @Test
    void aServerWithoutX25519GetsEveryGroupOnTheNextDial() throws Exception {
        v1server = new V1Peer.Server(FixedServer.LOCAL, 0, resource("v1peer.key"), resource("v1peer.cert"))
                .namedGroups("secp256r1");
        service = EchoService.start(FixedServer.LOCAL, new byte[0]);
        dynamic = Procs.start(tmp, "dynamic", List.of(Launchers.dynamicRtunnel().toString(), "--debug", "--notroot",
                "--remoteip=127.0.0.1", "--remoteport=" + v1server.port(), "--localport=" + service.port(),
                "--password=" + PASSWORD, "--hostname=old-gnutls", "--known-servers=" + tmp.resolve("known_servers")));

        V1Peer.Conn first = accept();
        assertEquals(List.of(V1Peer.GREETING, V1Peer.GREETING), List.copyOf(v1server.greetings()),
                "the narrow hello, refused, then the full one");
        assertEquals("old-gnut", first.auth().hostname());
        assertTrue(dynamic.output().contains("dialing again offering every key exchange group"), dynamic::output);
        first.sendStart();
        service.awaitConnections(1, Duration.ofSeconds(10));
        first.out().write("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        first.out().flush();
        first.tls().setSoTimeout((int) IO.toMillis());
        assertEquals("hello", new String(first.in().readNBytes(5), java.nio.charset.StandardCharsets.US_ASCII));

        first.closeAbruptly();
        V1Peer.Conn second = accept();
        assertEquals(3, v1server.greetings().size(), () -> "the next dial goes straight to every group: "
                + v1server.greetings() + "\n" + dynamic.output());
        second.closeAbruptly();
    }

    /** 1 MB each way at the same time between a tunnel client and the v1 peer, checked by hash. */
    private static void exchange(OutputStream clientOut, InputStream clientIn, OutputStream peerOut, InputStream peerIn)
            throws Exception {
        byte[] up = Sha256.randomBytes(MEGABYTE, 1);
        byte[] down = Sha256.randomBytes(MEGABYTE, 2);
        List<Thread> writers = new ArrayList<>();
        writers.add(Thread.ofVirtual().start(() -> write(clientOut, up)));
        writers.add(Thread.ofVirtual().start(() -> write(peerOut, down)));
        byte[][] atPeer = new byte[1][];
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                atPeer[0] = peerIn.readNBytes(up.length);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        byte[] atClient = clientIn.readNBytes(down.length);
        assertTrue(reader.join(IO), "reader at the v1 peer finished");
        for (Thread w : writers) {
            assertTrue(w.join(IO), "writer finished");
        }
        assertEquals(Sha256.hex(down), Sha256.hex(atClient), "v1 peer -> client");
        assertEquals(Sha256.hex(up), Sha256.hex(atPeer[0] == null ? new byte[0] : atPeer[0]), "client -> v1 peer");
    }

    private static void write(OutputStream out, byte[] data) {
        try {
            out.write(data);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next read after the data: -1 at end of stream (a reset counts as the end). */
    private static int readEnd(InputStream in) throws IOException {
        try {
            return in.read();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no end of stream within " + IO, e);
        } catch (SocketException e) {
            return -1;
        }
    }

    private V1Peer.Conn accept() throws InterruptedException {
        try {
            return v1server.accept(Duration.ofSeconds(15));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\ndynamic_rtunnel log:\n" + dynamic.output(), e);
        }
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(V1WireIT.class.getResource("/" + name).toURI());
    }
}
