package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
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
import rtunnel.it.support.Procs;
import rtunnel.it.support.SecFiles;
import rtunnel.it.support.SecLogs;
import rtunnel.it.support.V2Fixture;

/**
 * Acceptance 4 (restart part): allowlists, including IPv6 and CIDR entries, and the sticky port of
 * a v2 tunnel survive a kill -9 of the server; a damaged state file stops the start with the file
 * and line named, and is left as it was.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SecurityStateIT {

    private static final String PASSWORD = SecLogs.password(16);
    private static final byte[] BANNER = "STATE READY\n".getBytes(US_ASCII);

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
    void allowlistsAndStickyPortSurviveAKill9() throws IOException {
        service = EchoService.start(FixedServer.LOCAL, BANNER);
        Path dir = tmp.resolve("fixed");
        fixed = FixedServer.start(dir, PASSWORD);
        fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-tunnel=fd00:1::/64", "--addip-client=127.0.0.3",
                "--addip-client=::1", "--addip-client=10.20.0.0/16", "--addip-client=2001:db8::7");
        String tunnelsBefore = fixed.controlOk("--list-allowed-tunnels");
        String clientsBefore = fixed.controlOk("--list-allowed-clients");
        assertEquals(2, tunnelsBefore.lines().count(), tunnelsBefore);
        assertEquals(4, clientsBefore.lines().count(), clientsBefore);

        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=sticky");
        Tunnel before = V2Fixture.awaitV2(fixed, "sticky");
        try (Socket s = EchoService.connectFrom(Launchers.addr("127.0.0.3"), FixedServer.LOCAL, before.port(),
                Duration.ofSeconds(15))) {
            assertArrayEquals(BANNER, s.getInputStream().readNBytes(BANNER.length));
        }

        // A crash, not a clean stop: only what is already on disk counts.
        Procs.Result gone = Procs.runToEnd(List.of("kill", "-9", Long.toString(fixed.pid())), Duration.ofSeconds(10));
        assertEquals(0, gone.exit(), gone::toString);
        Procs.waitFor(Duration.ofSeconds(10), () -> !fixed.isAlive(), "fixed_rtunnel gone after kill -9");
        fixed.close(); // its dynamic_rtunnel too
        String saved = Files.readString(dir.resolve("fixed.state"));

        fixed = FixedServer.start(dir, PASSWORD);
        assertEquals(tunnelsBefore, fixed.controlOk("--list-allowed-tunnels"), () -> "state file was:\n" + saved);
        assertEquals(clientsBefore, fixed.controlOk("--list-allowed-clients"), () -> "state file was:\n" + saved);
        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=sticky");
        Tunnel after = V2Fixture.awaitV2(fixed, "sticky");
        assertEquals(before.port(), after.port(), () -> "the sticky port was not given back; state file was:\n" + saved
                + "\n" + fixed.describe());
        // The restored client allowlist really admits, not only lists.
        try (Socket s = EchoService.connectFrom(Launchers.addr("127.0.0.3"), FixedServer.LOCAL, after.port(),
                Duration.ofSeconds(15))) {
            assertArrayEquals(BANNER, s.getInputStream().readNBytes(BANNER.length));
        }
    }

    @Test
    void damagedStateFileStopsTheStartNamingFileAndLineAndIsKept() throws IOException {
        Path dir = tmp.resolve("damaged");
        Files.createDirectories(dir);
        Path state = dir.resolve("fixed.state");
        byte[] damaged = "# fixed_rtunnel state v1\ntunnel 127.0.0.2\nclient 10.1.2.\n".getBytes(US_ASCII);
        Files.write(state, damaged);
        Procs p = Procs.start(dir, "fixed-damaged", List.of(Launchers.fixedRtunnel().toString(), "--debug",
                "--notroot", "--port=" + SecFiles.freeListenPort(), "--socketname=" + dir.resolve("ctl.sock"),
                "--keyfile=" + dir.resolve("fixed.key"), "--certfile=" + dir.resolve("fixed.cert"),
                "--statefile=" + state, "--password=" + PASSWORD));
        try {
            assertEquals(1, p.waitForExit(Duration.ofSeconds(30)), p::output);
        } finally {
            p.stop();
        }
        String line = p.output().lines().filter(l -> l.contains(state.toString())).findFirst()
                .orElseThrow(() -> new AssertionError("no line names " + state + ":\n" + p.output()));
        assertTrue(line.matches(".*\\bline 3\\b.*"), () -> "the message must name line 3: " + line);
        assertArrayEquals(damaged, Files.readAllBytes(state), "a damaged state file must be left as it was");
    }
}
