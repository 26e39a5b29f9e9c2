package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Procs;
import rtunnel.it.support.Sha256;
import rtunnel.it.support.Sshd;

/**
 * Acceptance 1: the whole path with real processes. A real OpenSSH sshd plays the remote box's
 * service, dynamic_rtunnel (from 127.0.0.2, the "remote box") exposes it through fixed_rtunnel,
 * and ssh from 127.0.0.3 (an allowed client) runs commands and pushes 20 MB through the tunnel.
 */
class EndToEndSshIT {

    private static final Duration TUNNEL_UP = Duration.ofSeconds(20);
    private static final Duration SSH_TIMEOUT = Duration.ofSeconds(60);
    private static final String HOSTNAME = "e2e-host";

    @TempDir
    Path tmp;

    private Sshd sshd;
    private FixedServer fixed;

    @AfterEach
    void stopAll() {
        if (fixed != null) {
            fixed.close();
        }
        if (sshd != null) {
            sshd.close();
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void sshThroughTheTunnelRunsCommandsAndCarries20MegabytesIntact() throws IOException {
        sshd = Sshd.start(tmp.resolve("sshd"), FixedServer.LOCAL);
        String password = HexFormat.of().formatHex(Sha256.randomBytes(8, System.nanoTime()));
        fixed = FixedServer.start(tmp.resolve("fixed"), password);
        assertEquals("IP: 127.0.0.2\nIP: 127.0.0.3\n",
                fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-client=127.0.0.3"));
        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + sshd.port(), "--hostname=" + HOSTNAME);

        Tunnel t = fixed.awaitTunnel(TUNNEL_UP, x -> true, "the tunnel in --list-tunnels");
        assertEquals("127.0.0.2", t.remoteip(), t::line);
        assertEquals(HOSTNAME, t.hostname(), t::line);
        assertTrue(t.port() > 0 && t.port() != fixed.port(), t::line);

        Procs.Result hello = Procs.runToEnd(
                sshd.sshCommandFrom("127.0.0.3", t.port(), "127.0.0.1", "echo", "hello"), SSH_TIMEOUT);
        assertEquals(0, hello.exit(), () -> hello + "\n" + logs());
        assertEquals("hello", hello.stdout().strip(), () -> hello + "\n" + logs());

        // Protocol v1 ends a tunnel with its session and the dynamic side dials again: wait for the
        // new tunnel (a new id). A v2 tunnel carries many sessions and keeps its id.
        int firstId = t.id();
        Tunnel t2 = fixed.awaitTunnel(TUNNEL_UP, x -> x.protocol() != 1 || x.id() != firstId,
                "a tunnel ready for the next session");
        assertEquals("127.0.0.2", t2.remoteip(), t2::line);

        byte[] data = Sha256.randomBytes(20 * 1024 * 1024, System.nanoTime());
        Procs.Result sum = Procs.runToEnd(
                sshd.sshCommandFrom("127.0.0.3", t2.port(), "127.0.0.1", "sha256sum"), data, SSH_TIMEOUT);
        assertEquals(0, sum.exit(), () -> sum + "\n" + logs());
        assertEquals(Sha256.hex(data) + "  -", sum.stdout().strip(), () -> "hash differs: " + sum + "\n" + logs());
        assertTrue(fixed.isAlive(), this::logs);
    }

    private String logs() {
        return fixed.describe() + "--- sshd log:\n" + sshd.log();
    }
}
