package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.EchoService;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;

/**
 * Acceptance 2: nothing gets through unless allowlisted, refusals are remembered for
 * {@code --lastip-*}, and allowlist changes reach tunnels that are already waiting (the original
 * needed a tunnel restart for that). Each "host" is its own loopback address: 127.0.0.2 the
 * allowed remote box, 127.0.0.3 the allowed client, 127.0.0.4 to .6 strangers.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AllowlistIT {

    private static final String PASSWORD = "a1b2c3d4e5f60718";
    private static final byte[] BANNER = "SERVICE READY\n".getBytes(US_ASCII);
    private static final Duration TUNNEL_UP = Duration.ofSeconds(20);
    private static final Duration READ = Duration.ofSeconds(5);

    @TempDir
    Path tmp;

    private EchoService service;
    private FixedServer fixed;

    @BeforeEach
    void startServer() throws IOException {
        service = EchoService.start(FixedServer.LOCAL, BANNER);
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD);
        fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-client=127.0.0.3");
    }

    @AfterEach
    void stopAll() throws IOException {
        if (fixed != null) {
            fixed.close();
        }
        if (service != null) {
            service.close();
        }
    }

    @Test
    void tunnelFromAnAddressNotAllowedNeverAppearsAndIsRememberedUntilAdded() {
        fixed.startDynamic("--source-ip=127.0.0.4", "--localport=" + service.port(), "--hostname=stranger");
        waitForLastIp("--lastip-tunnel", "127.0.0.4");
        fixed.assertNoTunnelFor(Duration.ofSeconds(2), t -> true, "a tunnel from 127.0.0.4 must not be admitted");
        assertEquals(0, service.connections());

        assertEquals("IP: 127.0.0.4\n", fixed.controlOk("--addip-tunnel=127.0.0.4"));
        // The refused dynamic side keeps dialling (back-off from 1 s): it now gets in.
        Tunnel t = fixed.awaitTunnel(Duration.ofSeconds(30), x -> x.remoteip().equals("127.0.0.4"),
                "the tunnel from 127.0.0.4 once allowed");
        assertEquals("stranger", t.hostname(), t::line);
    }

    @Test
    void clientAllowedWhileATunnelWaitsIsServedByThatSameTunnel() throws IOException {
        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=box");
        Tunnel t = fixed.awaitTunnel(TUNNEL_UP, x -> x.remoteip().equals("127.0.0.2"), "the tunnel from 127.0.0.2");

        assertRefused("127.0.0.5", t.port());
        waitForLastIp("--lastip-client", "127.0.0.5");
        assertEquals(0, service.connections(), "a refused client must not reach the service");
        assertTrue(fixed.tunnels().stream().anyMatch(x -> x.id() == t.id()),
                () -> "a refused client must not end the waiting tunnel " + t.line() + "\n" + fixed.describe());

        assertEquals("IP: 127.0.0.5\n", fixed.controlOk("--addip-client=127.0.0.5"));
        assertTrue(fixed.tunnels().stream().anyMatch(x -> x.id() == t.id() && x.port() == t.port()),
                () -> "the same tunnel must still wait: " + t.line() + "\n" + fixed.describe());
        assertServed("127.0.0.5", t.port());
    }

    @Test
    void delipRefusesAgainAndACidrEntryAdmitsItsAddresses() throws IOException {
        fixed.controlOk("--addip-client=127.0.0.5");
        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=box");
        Tunnel t = fixed.awaitTunnel(TUNNEL_UP, x -> x.remoteip().equals("127.0.0.2"), "the tunnel from 127.0.0.2");

        fixed.controlOk("--delip-client=127.0.0.5");
        assertEquals("IP: 127.0.0.3\n", fixed.controlOk("--list-allowed-clients"));
        assertRefused("127.0.0.5", t.port());
        waitForLastIp("--lastip-client", "127.0.0.5");
        assertEquals(0, service.connections(), "a refused client must not reach the service");

        assertEquals("IP: 127.0.0.0/24\n", fixed.controlOk("--addip-client=127.0.0.0/24"));
        String allowed = fixed.controlOk("--list-allowed-clients");
        assertTrue(allowed.contains("IP: 127.0.0.0/24\n") && allowed.contains("IP: 127.0.0.3\n"), allowed);
        Tunnel now = fixed.awaitTunnel(TUNNEL_UP, x -> x.remoteip().equals("127.0.0.2"), "the tunnel");
        assertServed("127.0.0.6", now.port());
    }

    /** A client from {@code source} is accepted and closed: end of stream, not one service byte. */
    private void assertRefused(String source, int port) throws IOException {
        try (Socket s = EchoService.connectFrom(Launchers.addr(source), FixedServer.LOCAL, port, READ)) {
            try {
                s.getOutputStream().write("hello?\n".getBytes(US_ASCII));
            } catch (IOException e) {
                // Already closed by the server: that is the refusal.
            }
            byte[] got = readToEnd(s.getInputStream());
            assertEquals("", new String(got, US_ASCII), "a refused client from " + source + " got service bytes");
        }
    }

    /** A client from {@code source} gets the service's banner and its echo through the tunnel. */
    private void assertServed(String source, int port) throws IOException {
        try (Socket s = EchoService.connectFrom(Launchers.addr(source), FixedServer.LOCAL, port, READ)) {
            InputStream in = s.getInputStream();
            byte[] banner;
            try {
                banner = in.readNBytes(BANNER.length);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no banner within " + READ + " for a client from " + source + "\n"
                        + fixed.describe(), e);
            }
            assertEquals(new String(BANNER, US_ASCII), new String(banner, US_ASCII),
                    () -> "client from " + source + " was not served\n" + fixed.describe());
            byte[] ping = ("ping from " + source + "\n").getBytes(US_ASCII);
            s.getOutputStream().write(ping);
            assertEquals(new String(ping, US_ASCII), new String(in.readNBytes(ping.length), US_ASCII));
        }
        assertTrue(service.connections() > 0, "the service saw the session");
    }

    private void waitForLastIp(String option, String ip) {
        try {
            Procs.waitFor(Duration.ofSeconds(10), () -> fixed.controlOk(option).equals("IP: " + ip + "\n"),
                    option + " showing " + ip);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; it shows " + fixed.controlOk(option) + fixed.describe(), e);
        }
    }

    /** Everything until end of stream (a reset counts as the end); fails if the end does not come. */
    private byte[] readToEnd(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                b.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("connection neither served nor closed within " + READ + "; got "
                    + b.size() + " bytes\n" + fixed.describe(), e);
        } catch (SocketException e) {
            // Reset by the server: as good as a close.
        }
        return b.toByteArray();
    }
}
