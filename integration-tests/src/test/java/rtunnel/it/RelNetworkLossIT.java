package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.RelLoad;
import rtunnel.it.support.RelRelay;
import rtunnel.it.support.RelServer;
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2TestService;

/**
 * Issue 7, acceptance 2: the network between the two sides turns into a black hole (a relay that
 * stops forwarding both ways and closes nothing). With a 1 s ping interval and a 3 s timeout both
 * sides notice within the timeout plus a margin: the server drops the tunnel and the session in
 * flight (its client sees the end, it does not hang), the dynamic side logs the link closed. Once
 * the network heals the tunnel comes back on its old port and sessions work.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RelNetworkLossIT {

    private static final String PASSWORD = V2Fixture.password(8);
    /** The dynamic side dials the relay from here; the relay dials the server from DYNAMIC_HOST. */
    private static final String DYNAMIC_SOURCE = "127.0.0.5";
    private static final long PING_TIMEOUT_MS = 3000;
    /** Detection is checked every ping interval, on a 2-core machine shared with other tests. */
    private static final long MARGIN_MS = 4000;
    private static final String LINK_CLOSED = "(?i)link to tunnel .*closed";

    @TempDir
    Path tmp;

    private RelServer fixed;
    private V2TestService service;
    private RelRelay relay;

    @AfterEach
    void stopAll() throws IOException {
        if (fixed != null) {
            fixed.close();
        }
        if (relay != null) {
            relay.close();
        }
        if (service != null) {
            service.close();
        }
    }

    @Test
    void blackHoledLinkIsDroppedByBothSidesWithinThePingTimeoutAndComesBackWhenHealed() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = RelServer.create(tmp.resolve("fixed"), PASSWORD, null, "--ping-interval=1", "--ping-timeout=3");
        fixed.start();
        fixed.ok("addip-tunnel", V2Fixture.DYNAMIC_HOST);
        fixed.ok("addip-client", V2Fixture.CLIENT);
        relay = RelRelay.start(FixedServer.LOCAL, Launchers.addr(V2Fixture.DYNAMIC_HOST),
                new InetSocketAddress(FixedServer.LOCAL, fixed.port()));
        Procs dyn = fixed.startDynamic(DYNAMIC_SOURCE, "rel-net", service.port(), "--remoteport=" + relay.port());
        Tunnel t = fixed.awaitV2("rel-net", Duration.ofSeconds(40));
        RelLoad.echo(V2Fixture.CLIENT, t.port(), 256 * 1024, 1, Duration.ofSeconds(30));

        // A session in flight when the network goes: it has moved bytes and stays open.
        try (Socket inflight = V2Fixture.connect(V2Fixture.CLIENT, t.port())) {
            V2Fixture.send(inflight, "ECHO");
            V2Fixture.send(inflight, "before the outage");
            assertEquals("before the outage", V2Fixture.readLine(inflight));
            int closedBefore = V2Fixture.count(dyn.output(), LINK_CLOSED);

            relay.blackHole();
            long t0 = System.nanoTime();
            fixed.awaitNoTunnel(Duration.ofSeconds(20), x -> x.hostname().equals("rel-net"),
                    "the server to drop the black-holed tunnel");
            long serverMs = msSince(t0);
            Procs.waitFor(Duration.ofSeconds(20), () -> V2Fixture.count(dyn.output(), LINK_CLOSED) > closedBefore,
                    "the dynamic side to log its black-holed link closed");
            long dynamicMs = msSince(t0);

            inflight.setSoTimeout(15_000);
            long t1 = System.nanoTime();
            String end;
            try {
                int b = inflight.getInputStream().read();
                end = b < 0 ? "eof" : "byte " + b;
            } catch (SocketTimeoutException e) {
                end = "hang";
            } catch (IOException e) {
                end = "reset";
            }
            String how = end;
            assertTrue(how.equals("eof") || how.equals("reset"), () -> "the session in flight must end once its "
                    + "tunnel is dropped, got: " + how + "\n" + fixed.describe());
            long sessionMs = msSince(t1);
            System.out.printf("RelNetworkLossIT: server dropped the tunnel after %d ms, dynamic after %d ms, "
                    + "in-flight session ended (%s) %d ms later%n", serverMs, dynamicMs, how, sessionMs);

            assertTrue(serverMs <= PING_TIMEOUT_MS + MARGIN_MS, () -> "server noticed the dead link after " + serverMs
                    + " ms; ping timeout " + PING_TIMEOUT_MS + " ms\n" + fixed.describe());
            assertTrue(serverMs >= PING_TIMEOUT_MS - 2000, () -> "server dropped the link after only " + serverMs
                    + " ms, before the " + PING_TIMEOUT_MS + " ms ping timeout\n" + fixed.describe());
            assertTrue(dynamicMs <= PING_TIMEOUT_MS + MARGIN_MS, () -> "dynamic side noticed the dead link after "
                    + dynamicMs + " ms; ping timeout " + PING_TIMEOUT_MS + " ms\n" + fixed.describe());
        }

        // Still down: the dynamic side keeps trying and gets nowhere.
        fixed.awaitNoTunnel(Duration.ofSeconds(1), x -> x.hostname().equals("rel-net"), "no tunnel during the outage");
        Thread.sleep(2000);
        assertTrue(fixed.tunnels().stream().noneMatch(x -> x.hostname().equals("rel-net")),
                "a tunnel came up through a black hole");
        assertTrue(dyn.isAlive(), () -> "dynamic_rtunnel exited during the outage:\n" + dyn.output());

        relay.heal();
        Tunnel back = fixed.awaitV2("rel-net", Duration.ofSeconds(40));
        assertEquals(t.port(), back.port(), () -> "the tunnel came back on another port: " + back.line());
        RelLoad.echo(V2Fixture.CLIENT, back.port(), 256 * 1024, 2, Duration.ofSeconds(30));
    }

    private static long msSince(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }
}
