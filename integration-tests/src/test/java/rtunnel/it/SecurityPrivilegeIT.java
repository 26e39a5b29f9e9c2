package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.EchoService;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.SecFiles;
import rtunnel.it.support.SecLogs;
import rtunnel.it.support.SecWait;

/**
 * Acceptance 2: started as root without {@code --notroot}, both programs drop to {@code nobody}
 * for good once bound: {@code /proc/PID/status} shows nobody's uid and gid (real, effective, saved
 * and file system) and no root group, and the server still serves its port, its control socket
 * and writes its state file (in a directory it prepared for nobody before the drop).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SecurityPrivilegeIT {

    private static final String PASSWORD = SecLogs.password(16);
    private static final Duration START = Duration.ofSeconds(20);
    private static final Pattern TUNNEL_PORT = Pattern.compile("Tunnel: id:\\d+ port:(\\d+) remoteip:127\\.0\\.0\\.2 hostname:privdyn ");

    @TempDir
    Path tmp;

    private Path base;
    private final List<Procs> procs = new ArrayList<>();
    private EchoService service;

    @BeforeEach
    void needRoot() {
        assumeTrue(SecFiles.isRoot(), "privilege drop is only tested when the tests run as root (CI does)");
        // nobody must be able to reach its state directory and socket below the 0700 temp dir.
        base = tmp.resolve("priv");
        SecFiles.mkdirs(base);
        SecFiles.chmod(tmp, "rwxr-xr-x");
        SecFiles.chmod(base, "rwxr-xr-x");
    }

    @AfterEach
    void stopAll() throws IOException {
        procs.forEach(Procs::stop);
        if (service != null) {
            service.close();
        }
        SecLogs.assertNoSecretsInLogs(tmp, List.of(PASSWORD));
    }

    @Test
    void serverAndClientRunAsNobodyAndTheServerKeepsServingAndWritingState() throws Exception {
        SecFiles.Account nobody = SecFiles.account("nobody");
        String fp = SecFiles.generateCert(base.resolve("fixed.key"), base.resolve("fixed.cert"));
        Path socket = base.resolve("ctl.sock");
        Path stateDir = base.resolve("state");
        Path state = stateDir.resolve("fixed.state");
        assertFalse(Files.exists(stateDir));
        int port = SecFiles.freeListenPort();
        Procs fixed = start("fixed-root", Map.of("RTUNNEL_PASSWORD", PASSWORD),
                Launchers.fixedRtunnel().toString(), "--debug", "--port=" + port, "--socketname=" + socket,
                "--keyfile=" + base.resolve("fixed.key"), "--certfile=" + base.resolve("fixed.cert"),
                "--statefile=" + state);
        Procs.waitFor(START, () -> {
            if (!fixed.isAlive()) {
                throw new AssertionError("fixed_rtunnel as root exited at start:\n" + fixed.output());
            }
            return Files.exists(socket) && control(socket, "--lastip-tunnel").exit() == 0;
        }, "fixed_rtunnel (root, no --notroot) answering on " + socket);

        assertRunsAs(fixed, nobody);
        assertEquals(nobody.name(), Files.getOwner(socket).getName(), "the control socket belongs to the server's user");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals(nobody.name(), Files.getOwner(stateDir).getName(), "the state directory is prepared for nobody");

        Procs.Result add = control(socket, "--addip-tunnel=127.0.0.2", "--addip-client=127.0.0.3");
        assertEquals(0, add.exit(), () -> add + "\n" + fixed.output());
        String saved = Files.readString(state);
        assertTrue(saved.contains("tunnel 127.0.0.2") && saved.contains("client 127.0.0.3"),
                () -> "the state file written after the drop lacks the new entries:\n" + saved);
        assertEquals(nobody.name(), Files.getOwner(state).getName());

        // The server's own user may use the socket too (root may, checked above).
        Procs.Result asNobody = Procs.runToEnd(List.of("setpriv", "--reuid=" + nobody.uid(), "--regid=" + nobody.gid(),
                "--clear-groups", Launchers.fixedRtunnel().toString(), "--socketname=" + socket,
                "--list-allowed-clients"), FixedServer.CONTROL_TIMEOUT);
        assertEquals(0, asNobody.exit(), asNobody::toString);
        assertEquals("IP: 127.0.0.3\n", asNobody.stdout());

        // A real tunnel through the dropped server, from a dropped client.
        service = EchoService.start(FixedServer.LOCAL, "PRIV READY\n".getBytes(US_ASCII));
        Procs dyn = start("dynamic-root", Map.of("RTUNNEL_PASSWORD", PASSWORD),
                Launchers.dynamicRtunnel().toString(), "--debug", "--remoteip=127.0.0.1", "--remoteport=" + port,
                "--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=privdyn",
                "--server-fingerprint=" + fp);
        int[] tunnelPort = new int[1];
        SecWait.until(START, () -> {
            Matcher m = TUNNEL_PORT.matcher(control(socket, "--list-tunnels").stdout());
            if (!m.find()) {
                return false;
            }
            tunnelPort[0] = Integer.parseInt(m.group(1));
            return true;
        }, "the tunnel of dynamic_rtunnel started as root", () -> fixed.output() + "\n---\n" + dyn.output());
        assertRunsAs(dyn, nobody);
        try (Socket s = EchoService.connectFrom(Launchers.addr("127.0.0.3"), FixedServer.LOCAL, tunnelPort[0],
                Duration.ofSeconds(15))) {
            assertEquals("PRIV READY", new String(s.getInputStream().readNBytes(10), US_ASCII));
            s.getOutputStream().write("through\n".getBytes(US_ASCII));
            assertEquals("\nthrough\n", new String(s.getInputStream().readNBytes(9), US_ASCII));
        }
        assertTrue(fixed.isAlive() && dyn.isAlive());
    }

    @Test
    void aFailedDropStopsTheServerInsteadOfRunningOnAsRoot() {
        String fpIgnored = SecFiles.generateCert(base.resolve("fixed.key"), base.resolve("fixed.cert"));
        assertTrue(fpIgnored.startsWith("SHA256:"));
        Procs fixed = start("fixed-nouser", Map.of("RTUNNEL_PASSWORD", PASSWORD),
                Launchers.fixedRtunnel().toString(), "--debug", "--port=" + SecFiles.freeListenPort(),
                "--socketname=" + base.resolve("ctl.sock"), "--keyfile=" + base.resolve("fixed.key"),
                "--certfile=" + base.resolve("fixed.cert"), "--statefile=" + base.resolve("st/fixed.state"),
                "--user=rtunnel-no-such-user");
        int exit = fixed.waitForExit(START);
        assertNotEquals(0, exit, fixed::output);
        assertTrue(fixed.output().contains("rtunnel-no-such-user"), () -> "the error must name the user:\n" + fixed.output());
    }

    private Procs start(String name, Map<String, String> env, String... cmd) {
        Procs p = Procs.start(base, name, List.of(cmd), env);
        procs.add(p);
        return p;
    }

    private static Procs.Result control(Path socket, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Launchers.fixedRtunnel().toString(), "--socketname=" + socket));
        cmd.addAll(List.of(args));
        return Procs.runToEnd(cmd, FixedServer.CONTROL_TIMEOUT);
    }

    private static void assertRunsAs(Procs p, SecFiles.Account user) {
        long pid = p.pid();
        List<Long> uids = SecFiles.procStatus(pid, "Uid");
        List<Long> gids = SecFiles.procStatus(pid, "Gid");
        List<Long> groups = SecFiles.procStatus(pid, "Groups");
        String what = p + " uid " + uids + " gid " + gids + " groups " + groups + "\n" + p.output();
        assertEquals(List.of(user.uid(), user.uid(), user.uid(), user.uid()), uids, () -> "real/effective/saved/fs uid of " + what);
        assertEquals(List.of(user.gid(), user.gid(), user.gid(), user.gid()), gids, () -> "real/effective/saved/fs gid of " + what);
        assertFalse(groups.contains(0L), () -> "still in the root group: " + what);
    }
}
