package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static rtunnel.it.support.V2Fixture.CLIENT;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.ProcSockets;
import rtunnel.it.support.Procs;
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2TestService;

/**
 * A v2 link's socket is read with blocking reads while it carries a session, on both sides, as
 * the real launchers start the programs: one read per wake-up instead of a read that finds
 * nothing, a poll and the read. dynamic_rtunnel's link socket is never made non-blocking; the
 * server's busy link is made blocking again and, once idle, non-blocking again for its virtual
 * reader. Read from the processes' /proc file status flags.
 */
class V2BlockingReadsIT {
    /**
     * The server's link goes back to a virtual reader at the first frame 2 s after its last
     * stream; with pings every 2 s that is within ~4 s. Some slack.
     */
    private static final Duration SETTLE = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    private FixedServer fixed;
    private V2TestService service;

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
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aBusyLinkIsReadBlockingOnBothSidesAndTheIdleServerSideIsNonBlockingAgain() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = V2Fixture.startFixed(tmp.resolve("fixed"), V2Fixture.password(8), "--ping-interval=2");
        Procs dynamic = V2Fixture.startDynamic(fixed, "blocking", service.port());
        Tunnel t = V2Fixture.awaitV2(fixed, "blocking");

        assertEquals(Optional.of(false), ProcSockets.nonBlocking(dynamic.pid(), 0, fixed.port()),
                "dynamic_rtunnel's link, idle: never made non-blocking");
        try (Socket s = V2Fixture.connect(CLIENT, t.port())) {
            V2Fixture.send(s, "ECHO");
            for (int i = 0; i < 20; i++) {
                V2Fixture.send(s, "line " + i);
                assertEquals("line " + i, V2Fixture.readLine(s));
            }
            assertEquals(Optional.of(false), await(fixed.pid(), fixed.port(), false),
                    "the server's link while a session runs: blocking again");
            assertEquals(Optional.of(false), ProcSockets.nonBlocking(dynamic.pid(), 0, fixed.port()),
                    "dynamic_rtunnel's link while a session runs");
            V2Fixture.send(s, "still there");
            assertEquals("still there", V2Fixture.readLine(s));
        }
        assertEquals(Optional.of(true), await(fixed.pid(), fixed.port(), true),
                "the server's idle link, read by a virtual thread again: non-blocking");
        V2Fixture.echoSession(t.port(), "and once more"); // the link still carries sessions
        assertTrue(fixed.isAlive() && dynamic.isAlive());
    }

    /** Polls (bounded) until the server's link socket has the wanted mode; the last reading. */
    private static Optional<Boolean> await(long pid, int port, boolean nonBlocking) throws Exception {
        long end = System.nanoTime() + SETTLE.toNanos();
        Optional<Boolean> seen;
        do {
            seen = ProcSockets.nonBlocking(pid, port, 0);
            if (seen.equals(Optional.of(nonBlocking))) {
                break;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < end);
        return seen;
    }
}
