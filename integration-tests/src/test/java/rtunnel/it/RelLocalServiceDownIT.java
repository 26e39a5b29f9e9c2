package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
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
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Procs;
import rtunnel.it.support.RelEcho;
import rtunnel.it.support.RelServer;
import rtunnel.it.support.V2Fixture;

/**
 * Issue 7, acceptance 3: the local service behind a tunnel goes down. A user connection is closed
 * promptly (the client sees the end within two seconds, not a hang) while the tunnel stays up with
 * the same id and port; when the service is back on the same port the next session works.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RelLocalServiceDownIT {

    private static final String PASSWORD = V2Fixture.password(8);
    private static final byte[] BANNER = "SSH-2.0-RelStandIn\r\n".getBytes(US_ASCII);
    private static final long PROMPT_MS = 2000;

    @TempDir
    Path tmp;

    private RelServer fixed;
    private RelEcho service;

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
    void userConnectionIsClosedPromptlyWhileTheServiceIsDownAndTheTunnelStays() throws Exception {
        // Below the ephemeral range: with the service down, a connect to an ephemeral port can
        // pick that same port as its own source and connect to itself (TCP simultaneous open).
        service = RelEcho.start(FixedServer.LOCAL, Launchers.freePort(FixedServer.LOCAL), BANNER);
        int servicePort = service.port();
        fixed = RelServer.create(tmp.resolve("fixed"), PASSWORD, null);
        fixed.start();
        fixed.ok("addip-tunnel", V2Fixture.DYNAMIC_HOST);
        fixed.ok("addip-client", V2Fixture.CLIENT);
        Procs dyn = fixed.startDynamic(V2Fixture.DYNAMIC_HOST, "rel-svc", servicePort);
        Tunnel t = fixed.awaitV2("rel-svc", Duration.ofSeconds(40));
        session(t.port(), "while the service is up");

        service.close();
        // A listening socket closed while a thread waits in accept() is released a moment later:
        // the service is down once a direct connect to it is refused.
        Procs.waitFor(Duration.ofSeconds(10), () -> {
            try (Socket probe = new Socket()) {
                probe.connect(new java.net.InetSocketAddress(FixedServer.LOCAL, servicePort), 500);
                return false;
            } catch (IOException refused) {
                return true;
            }
        }, "the local service refusing connections after it was stopped");
        for (int i = 0; i < 3; i++) {
            try (Socket s = V2Fixture.connect(V2Fixture.CLIENT, t.port())) {
                s.setSoTimeout(15_000);
                long t0 = System.nanoTime();
                String end;
                try {
                    int b = s.getInputStream().read();
                    end = b < 0 ? "eof" : "a byte (" + b + ")";
                } catch (SocketTimeoutException e) {
                    end = "nothing for 15 s";
                } catch (IOException e) {
                    end = "reset";
                }
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                String how = end;
                assertTrue(how.equals("eof") || how.equals("reset"), () -> "with the service down a user connection "
                        + "must be closed, got " + how + " after " + ms + " ms\n" + fixed.describe());
                assertTrue(ms <= PROMPT_MS, () -> "user connection closed only after " + ms + " ms\n" + fixed.describe());
            }
        }
        Thread.sleep(1000);
        List<Tunnel> now = fixed.tunnels();
        assertEquals(1, now.size(), () -> "the tunnel must stay up while the service is down: " + now);
        assertEquals(t.id(), now.get(0).id(), () -> "tunnel id changed: " + now.get(0).line());
        assertEquals(t.port(), now.get(0).port(), () -> "tunnel port changed: " + now.get(0).line());
        assertTrue(dyn.isAlive(), dyn::output);

        service = RelEcho.start(FixedServer.LOCAL, servicePort, BANNER);
        session(t.port(), "after the service came back");
        assertEquals(t.id(), fixed.tunnels().get(0).id(), "the same tunnel carries the session after the outage");
    }

    private void session(int port, String text) throws IOException {
        try (Socket s = V2Fixture.connect(V2Fixture.CLIENT, port)) {
            assertArrayEquals(BANNER, s.getInputStream().readNBytes(BANNER.length), () -> "banner " + text
                    + "\n" + fixed.describe());
            V2Fixture.send(s, text);
            assertEquals(text, V2Fixture.readLine(s), "echo " + text);
        }
    }
}
