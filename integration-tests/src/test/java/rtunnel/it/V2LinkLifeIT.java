package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Procs;
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2TestService;

/**
 * Issue 3, acceptance 3 and 6: the alarm rotates the link under a running transfer without
 * harming it, and a link whose peer stops answering is dropped within the ping timeout, after
 * which the dynamic side comes back.
 */
class V2LinkLifeIT {

    private static final String ROTATED = "(?i)rotated";
    private static final long ALARM_BYTES = 30L * 1024 * 1024;
    /** 30 MB at 5 MB/s: about six seconds, three two-second alarms. */
    private static final long READ_RATE = 5L * 1024 * 1024;

    @TempDir
    Path tmp;

    private FixedServer fixed;
    private V2TestService service;
    private long stoppedPid = -1;

    @AfterEach
    void stopAll() throws IOException {
        if (stoppedPid > 0) {
            V2Fixture.signal("CONT", stoppedPid);
        }
        if (fixed != null) {
            fixed.close();
        }
        if (service != null) {
            service.close();
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aTransferSpanningAlarmRotationsCompletesIntact() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = V2Fixture.startFixed(tmp.resolve("fixed"), V2Fixture.password(8));
        Procs dyn = V2Fixture.startDynamic(fixed, "v2-alarm", service.port(), "--alarm=2");
        Tunnel t = V2Fixture.awaitV2(fixed, "v2-alarm");

        String expected = ALARM_BYTES + " " + V2TestService.pattern(ALARM_BYTES);
        int rotationsBefore = V2Fixture.count(dyn.output(), ROTATED);
        long t0 = System.nanoTime();
        String got;
        try (Socket s = V2Fixture.connect(V2Fixture.CLIENT, t.port())) {
            V2Fixture.send(s, "STREAM " + ALARM_BYTES);
            got = readSlowly(s.getInputStream(), t0);
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        int rotations = V2Fixture.count(dyn.output(), ROTATED) - rotationsBefore;
        assertEquals(expected, got, () -> "transfer across the alarm\n" + fixed.describe());
        assertTrue(rotations >= 1, () -> "no rotation logged during the " + seconds + " s transfer\n"
                + fixed.describe());

        List<Tunnel> now = V2Fixture.tunnelsOf(fixed, "v2-alarm");
        assertEquals(1, now.size(), now::toString);
        assertEquals(t.id(), now.get(0).id(), () -> "tunnel id after rotation: " + now.get(0).line() + "\n"
                + fixed.describe());
        assertEquals(t.port(), now.get(0).port(), () -> "port after rotation: " + now.get(0).line() + "\n"
                + fixed.describe());
        V2Fixture.echoSession(t.port(), "on the new link");
    }

    /** Reads to EOF at about {@link #READ_RATE}; returns {@code "<count> <hex>"}. */
    private static String readSlowly(InputStream in, long t0) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[64 * 1024];
        long count = 0;
        for (int n; (n = in.read(buf)) >= 0; ) {
            md.update(buf, 0, n);
            count += n;
            if (count > ALARM_BYTES) {
                break; // more than was asked for: the hash will tell
            }
            long due = t0 + count * 1_000_000_000L / READ_RATE;
            long ahead = due - System.nanoTime();
            if (ahead > 0) {
                Thread.sleep(Duration.ofNanos(ahead));
            }
        }
        return count + " " + HexFormat.of().formatHex(md.digest());
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aStoppedDynamicSideIsDroppedWithinThePingTimeoutAndComesBack() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = V2Fixture.startFixed(tmp.resolve("fixed"), V2Fixture.password(8), "--ping-interval=1",
                "--ping-timeout=3");
        Procs dyn = V2Fixture.startDynamic(fixed, "v2-dead", service.port());
        Tunnel t = V2Fixture.awaitV2(fixed, "v2-dead");
        V2Fixture.echoSession(t.port(), "before");

        V2Fixture.signal("STOP", dyn.pid());
        stoppedPid = dyn.pid();
        long t0 = System.nanoTime();
        fixed.awaitNoTunnel(Duration.ofSeconds(9), x -> x.hostname().equals("v2-dead"),
                "the server to drop the tunnel of the stopped dynamic side (ping timeout 3 s)");
        long droppedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(dyn.isAlive(), "the dynamic side is stopped, not dead");

        V2Fixture.signal("CONT", dyn.pid());
        stoppedPid = -1;
        Tunnel again = V2Fixture.awaitV2(fixed, "v2-dead");
        V2Fixture.echoSession(again.port(), "after SIGCONT");
        assertTrue(droppedMs >= 1000, () -> "tunnel dropped " + droppedMs + " ms after SIGSTOP: too early for a "
                + "3 s ping timeout\n" + fixed.describe());
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aStoppedServerIsNoticedByTheDynamicSide() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = V2Fixture.startFixed(tmp.resolve("fixed"), V2Fixture.password(8), "--ping-interval=1",
                "--ping-timeout=3");
        Procs dyn = V2Fixture.startDynamic(fixed, "v2-deadsrv", service.port());
        V2Fixture.awaitV2(fixed, "v2-deadsrv");
        String closed = "(?i)link to tunnel .*closed";
        int closedBefore = V2Fixture.count(dyn.output(), closed);

        V2Fixture.signal("STOP", fixed.pid());
        stoppedPid = fixed.pid();
        V2Fixture.awaitLogCount(dyn, Duration.ofSeconds(9), closed, closedBefore + 1,
                "the dynamic side to drop its link to the stopped server (ping timeout 3 s)", null);
        V2Fixture.signal("CONT", fixed.pid());
        stoppedPid = -1;

        V2Fixture.awaitLogCount(dyn, V2Fixture.TUNNEL_UP, "(?i)connected to .*protocol 2", 2,
                "the dynamic side to connect again", fixed);
        Tunnel again = V2Fixture.awaitV2(fixed, "v2-deadsrv");
        V2Fixture.echoSession(again.port(), "after the server woke up");
    }
}
