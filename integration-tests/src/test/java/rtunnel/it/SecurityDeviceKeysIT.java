package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import rtunnel.it.support.FixedServer;
import rtunnel.it.support.Procs;

/**
 * Device keys (issue 4, criterion 7): a dynamic side presenting its own key shows up as pending;
 * with --require-device-key it gets no tunnel until approved; approval survives a restart of the
 * server; revoking drops its tunnel and keeps it out; a side with no key at all stays out.
 */
class SecurityDeviceKeysIT {
    private static final String PASSWORD = "d0e5de71ce0ff1ce";
    private static final Pattern PENDING = Pattern.compile("^Device: (SHA256:\\S+) hostname:cam7 remoteip:127\\.0\\.0\\.2 .*",
            Pattern.MULTILINE);

    @TempDir
    Path dir;

    private FixedServer fixed;

    @AfterEach
    void stop() {
        if (fixed != null) {
            fixed.close();
        }
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void pendingApproveRevokeAndRequire() throws Exception {
        Path server = dir.resolve("server");
        fixed = FixedServer.start(server, PASSWORD, "--require-device-key");
        fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-tunnel=127.0.0.4", "--addip-client=127.0.0.3");
        Path key = dir.resolve("device.key");
        fixed.startDynamic("--source-ip=127.0.0.2", "--hostname=cam7", "--device-keyfile=" + key, "--localport=9");

        // The key is generated on first use, proves the password, and waits for approval.
        Procs.waitFor(Duration.ofSeconds(60), () -> PENDING.matcher(fixed.controlOk("--list-pending")).find(),
                "cam7 listed as pending\n" + fixed.describe());
        assertTrue(Files.exists(key) && Files.exists(dir.resolve("device.cert")), "device key and certificate written");
        fixed.assertNoTunnelFor(Duration.ofSeconds(2), t -> true, "no tunnel before approval");
        Matcher m = PENDING.matcher(fixed.controlOk("--list-pending"));
        assertTrue(m.find());
        String fp = m.group(1);
        assertTrue(fixed.log().contains("device key not approved") || fixed.describe().contains("not approved"),
                "the refusal is logged:\n" + fixed.describe());

        // A dynamic side with no key at all is refused by --require-device-key.
        fixed.startDynamic("--source-ip=127.0.0.4", "--hostname=keyless", "--localport=9");

        // Approve: the pending entry goes, the device is listed, its retries get a tunnel.
        assertEquals("Device: " + fp, fixed.controlOk("--approve=" + fp).strip());
        assertEquals("Device: " + fp, fixed.controlOk("--list-devices").strip());
        assertFalse(fixed.controlOk("--list-pending").contains(fp), "approved keys are not pending");
        FixedServer.Tunnel t = fixed.awaitTunnel(Duration.ofSeconds(60), x -> x.hostname().equals("cam7"),
                "cam7's tunnel after approval");
        fixed.assertNoTunnelFor(Duration.ofSeconds(2), x -> x.hostname().equals("keyless"),
                "no tunnel for a side without a device key");
        assertTrue(fixed.describe().contains("requires a device key") || fixed.log().contains("no device key"),
                "the keyless side is told why:\n" + fixed.describe());
        assertTrue(Files.readString(server.resolve("fixed.state")).contains("device " + fp), "approval saved");

        // Revoke: its tunnel is dropped at once and does not come back.
        assertEquals("Device: " + fp, fixed.controlOk("--revoke=" + fp).strip());
        fixed.awaitNoTunnel(Duration.ofSeconds(30), x -> x.id() == t.id(), "the revoked device's tunnel dropped");
        fixed.assertNoTunnelFor(Duration.ofSeconds(4), x -> x.hostname().equals("cam7"), "no tunnel after revoke");
        assertTrue(fixed.controlOk("--list-devices").isBlank(), "nothing approved any more");
        assertFalse(Files.readString(server.resolve("fixed.state")).contains("device " + fp), "revocation saved");

        // Bad fingerprints are usage errors; revoking an unknown one is a refusal.
        assertEquals(2, fixed.control("--approve=not-a-fingerprint").exit());
        Procs.Result unknown = fixed.control("--revoke=" + fp);
        assertEquals(1, unknown.exit(), unknown.toString());
        assertTrue(unknown.stderr().contains("not an approved device key"), unknown.toString());
    }
}
