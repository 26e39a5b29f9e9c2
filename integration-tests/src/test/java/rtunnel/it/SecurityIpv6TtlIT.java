package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
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
import rtunnel.it.support.SecLogs;
import rtunnel.it.support.V1Peer;

/**
 * Acceptance 5 (the integration part; the table-driven CIDR tests are unit tests in common):
 * a real tunnel over IPv6 on ::1 admitted by IPv6 allowlist entries (an exact ::1 and a ::/127
 * range), refused once the entry is removed; and entries added with {@code --ttl=2s} that admit
 * at first and stop admitting by themselves once expired.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SecurityIpv6TtlIT {

    /** 16 hex digits: the IPv6 tunnel leg is played by a v1 peer. */
    private static final String PASSWORD = SecLogs.password(8);
    private static final InetAddress V6 = Launchers.addr("::1");
    private static final byte[] BANNER = "V6 READY\n".getBytes(US_ASCII);
    private static final Duration TUNNEL_UP = Duration.ofSeconds(20);
    private static final Duration READ = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    private FixedServer fixed;
    private EchoService service;

    @AfterEach
    void stopAll() throws IOException {
        if (fixed != null) {
            fixed.close();
        }
        if (service != null) {
            service.close();
        }
        SecLogs.assertNoSecretsInLogs(tmp, List.of(PASSWORD));
    }

    @Test
    void tunnelAndClientOverIpv6LoopbackAdmittedByIpv6EntriesOnly() throws Exception {
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD);
        assertEquals("IP: ::1\nIP: ::1\n", fixed.controlOk("--addip-tunnel=::1", "--addip-client=::1"));

        // Both legs over IPv6: the tunnel dials ::1 from ::1 (dynamic_rtunnel dials IPv4 only, so a
        // byte-level v1 peer plays it), and the client reaches the tunnel port over ::1.
        try (V1Peer.Client tunnel = V1Peer.Client.connect(V6, V6, fixed.port(), V1Peer.password(PASSWORD), "v6box")) {
            Tunnel t = fixed.awaitTunnel(TUNNEL_UP, x -> x.hostname().equals("v6box"), "the tunnel dialled over ::1");
            assertEquals("::1", t.remoteip(), t::line);
            try (Socket client = EchoService.connectFrom(V6, V6, t.port(), READ)) {
                assertEquals(V1Peer.START, tunnel.readMessage(READ));
                client.getOutputStream().write("ping over ::1\n".getBytes(US_ASCII));
                assertEquals("ping over ::1\n", new String(tunnel.in().readNBytes(14), US_ASCII));
                tunnel.out().write("pong\n".getBytes(US_ASCII));
                tunnel.out().flush();
                assertEquals("pong\n", new String(client.getInputStream().readNBytes(5), US_ASCII));
            }
        }

        // The real programs, IPv6 on the client leg: admitted by ::1, refused without it, admitted by ::/127.
        service = EchoService.start(FixedServer.LOCAL, BANNER);
        fixed.controlOk("--addip-tunnel=127.0.0.2");
        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=v6cli");
        int port = fixed.awaitTunnel(TUNNEL_UP, x -> x.hostname().equals("v6cli"), "the v6cli tunnel").port();
        assertAdmitted(V6, port);
        assertEquals("IP: ::1\n", fixed.controlOk("--delip-client=::1"));
        assertRefused(V6, port);
        assertEquals("IP: ::1\n", fixed.controlOk("--lastip-client"));
        assertEquals("IP: ::/127\n", fixed.controlOk("--addip-client=::/127"));
        assertAdmitted(V6, port);
        // An IPv6 range does not admit IPv4 loopback.
        assertRefused(Launchers.addr("127.0.0.3"), port);
    }

    @Test
    void entriesWithTtlStopAdmittingOnceExpired() throws Exception {
        service = EchoService.start(FixedServer.LOCAL, BANNER);
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD);
        fixed.controlOk("--addip-tunnel=127.0.0.2");
        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=ttl");
        int port = fixed.awaitTunnel(TUNNEL_UP, x -> x.hostname().equals("ttl"), "the ttl tunnel").port();

        assertEquals("IP: 127.0.0.3\nIP: 127.0.0.4\n",
                fixed.controlOk("--ttl=2s", "--addip-client=127.0.0.3", "--addip-tunnel=127.0.0.4"));
        // The server added both entries before it answered, so they expire by 2 s from here.
        long addedBy = System.nanoTime();
        assertAdmitted(Launchers.addr("127.0.0.3"), port);
        try (V1Peer.Client c = V1Peer.Client.open(Launchers.addr("127.0.0.4"), FixedServer.LOCAL, fixed.port())) {
            c.greet();
        }
        String listed = fixed.controlOk("--list-allowed-clients");
        assertTrue(listed.matches("(?s)IP: 127\\.0\\.0\\.3 expires:\\S+\\n"), () -> "listing: " + listed);

        long wait = TimeUnit.MILLISECONDS.toNanos(2100) - (System.nanoTime() - addedBy);
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
        // Expired: refused from now on, and gone from the listings, by itself.
        assertRefused(Launchers.addr("127.0.0.3"), port);
        assertEquals("IP: 127.0.0.3\n", fixed.controlOk("--lastip-client"));
        try (V1Peer.Client c = V1Peer.Client.open(Launchers.addr("127.0.0.4"), FixedServer.LOCAL, fixed.port())) {
            assertThrowsIo(c::greet, "a tunnel from 127.0.0.4 after its entry expired");
        }
        assertEquals("", fixed.controlOk("--list-allowed-clients"));
        assertEquals("IP: 127.0.0.2\n", fixed.controlOk("--list-allowed-tunnels"));
    }

    /** A client from {@code from} gets the service's banner through {@code port} and an echo back. */
    private void assertAdmitted(InetAddress from, int port) throws IOException {
        try (Socket s = EchoService.connectFrom(from, from.getAddress().length == 16 ? V6 : FixedServer.LOCAL, port, READ)) {
            assertArrayEquals(BANNER, s.getInputStream().readNBytes(BANNER.length),
                    () -> "client " + from.getHostAddress() + " not served\n" + fixed.describe());
            s.getOutputStream().write("x\n".getBytes(US_ASCII));
            assertEquals("x\n", new String(s.getInputStream().readNBytes(2), US_ASCII));
        }
    }

    /** A client from {@code from} is accepted and closed without a byte of the service. */
    private void assertRefused(InetAddress from, int port) throws IOException {
        int before = service.connections();
        try (Socket s = EchoService.connectFrom(from, from.getAddress().length == 16 ? V6 : FixedServer.LOCAL, port, READ)) {
            InputStream in = s.getInputStream();
            int first;
            try {
                first = in.read();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("client " + from.getHostAddress() + " was neither served nor closed in " + READ);
            } catch (IOException e) {
                first = -1; // reset: refused as well
            }
            assertEquals(-1, first, () -> "client " + from.getHostAddress() + " must be refused\n" + fixed.describe());
        }
        assertEquals(before, service.connections(), "a refused client must not reach the service");
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private static void assertThrowsIo(IoAction a, String what) {
        try {
            a.run();
        } catch (IOException expected) {
            return;
        }
        throw new AssertionError(what + " must be closed at once, but was answered");
    }
}
