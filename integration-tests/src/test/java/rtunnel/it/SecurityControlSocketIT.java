package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.SecFiles;
import rtunnel.it.support.SecLogs;

/**
 * Acceptance 3: the control socket is mode 0600, and a process of another, non-root user is
 * refused: by the file mode, and (defence in depth, with the mode opened up by hand) by the peer
 * credentials check, which also logs the refusal. The other user is played with setpriv.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SecurityControlSocketIT {

    private static final String PASSWORD = SecLogs.password(16);
    /** A uid and gid no account on the machine has. */
    private static final int STRANGER = 12345;

    @TempDir
    Path tmp;

    private FixedServer fixed;

    @AfterEach
    void stopAll() {
        if (fixed != null) {
            fixed.close();
        }
        SecLogs.assertNoSecretsInLogs(tmp, List.of(PASSWORD));
    }

    @Test
    void socketIsPrivateAndAnotherUserIsRefusedByModeAndByPeerCredentials() throws IOException {
        assumeTrue(SecFiles.isRoot(), "playing another user with setpriv needs root (CI runs as root)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) not installed");
        Path dir = tmp.resolve("ctl");
        SecFiles.mkdirs(dir);
        // The stranger must reach the socket file, so that only the socket itself can refuse it.
        SecFiles.chmod(tmp, "rwxr-xr-x");
        SecFiles.chmod(dir, "rwxr-xr-x");
        fixed = FixedServer.start(dir, PASSWORD);
        fixed.controlOk("--addip-tunnel=127.0.0.2");
        Path socket = fixed.socket();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)), "control socket mode");

        Procs.Result byMode = asStranger(socket, "--addip-tunnel=127.0.0.9");
        assertNotEquals(0, byMode.exit(), byMode::toString);
        assertTrue(byMode.stderr().toLowerCase(Locale.ROOT).contains("permission denied"), byMode::toString);

        // With the file mode opened by hand, the server's own check must still refuse the stranger.
        SecFiles.chmod(socket, "rw-rw-rw-");
        Procs.Result listing = asStranger(socket, "--list-allowed-tunnels");
        assertNotEquals(0, listing.exit(), listing::toString);
        assertFalse(listing.stdout().contains("127.0.0.2"), () -> "a stranger read the allowlist: " + listing);
        Procs.Result change = asStranger(socket, "--addip-tunnel=127.0.0.9");
        assertNotEquals(0, change.exit(), change::toString);
        for (Procs.Result r : List.of(listing, change)) {
            String err = r.stderr().toLowerCase(Locale.ROOT);
            assertTrue(err.contains("permission denied") && !err.contains("cannot connect"),
                    () -> "the refusal must come from the server's peer check: " + r);
        }
        assertTrue(fixed.log().lines().anyMatch(l -> l.contains("uid " + STRANGER)),
                () -> "the server must log the refused uid:\n" + fixed.log());

        assertEquals("IP: 127.0.0.2\n", fixed.controlOk("--list-allowed-tunnels"), "the stranger changed nothing");
        assertFalse(Files.readString(stateFile()).contains("127.0.0.9"));
    }

    private Path stateFile() {
        return fixed.dir().resolve("fixed.state");
    }

    private static Procs.Result asStranger(Path socket, String... args) {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + STRANGER, "--regid=" + STRANGER,
                "--clear-groups", Launchers.fixedRtunnel().toString(), "--socketname=" + socket));
        cmd.addAll(List.of(args));
        return Procs.runToEnd(cmd, FixedServer.CONTROL_TIMEOUT);
    }
}
