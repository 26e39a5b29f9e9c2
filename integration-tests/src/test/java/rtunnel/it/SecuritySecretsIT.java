package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
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
import rtunnel.it.support.V1Peer;

/**
 * Acceptance 10, and the secret sources of the issue: the password reaches the programs from a
 * file, the environment and argv (v1 and v2, right and wrong, through real sessions), a password
 * file readable by others is refused, and no log of any of it contains a password in any
 * spelling. Every other Security*IT scans its own logs for its own passwords the same way.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SecuritySecretsIT {

    /** 16 hex digits so that v1 peers can use it too. */
    private static final String PASSWORD = SecLogs.password(8);
    private static final String WRONG = SecLogs.password(8);
    private static final Duration TUNNEL_UP = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    private FixedServer fixed;
    private EchoService service;
    private final List<Procs> procs = new ArrayList<>();
    /** Output of short runs (not log files), scanned too. */
    private final List<Procs.Result> runs = new ArrayList<>();

    @AfterEach
    void stopAll() throws IOException {
        procs.forEach(Procs::stop);
        if (fixed != null) {
            fixed.close();
        }
        if (service != null) {
            service.close();
        }
    }

    @Test
    void passwordsFromFileEnvironmentAndArgvNeverReachALog() throws Exception {
        Path secrets = tmp.resolve("secrets");
        SecFiles.mkdirs(secrets);
        Path serverPwFile = SecFiles.writeSecret(secrets.resolve("server-pw"), PASSWORD + "\n", "rw-------");
        Path clientPwFile = SecFiles.writeSecret(secrets.resolve("client-pw"), PASSWORD + "\n", "rw-------");
        Path openPwFile = SecFiles.writeSecret(secrets.resolve("open-pw"), PASSWORD + "\n", "rw-r--r--");

        service = EchoService.start(FixedServer.LOCAL, "SECRET READY\n".getBytes(US_ASCII));
        fixed = FixedServer.start(tmp.resolve("fixed"), null, "--password-file=" + serverPwFile);
        fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-tunnel=127.0.0.4", "--addip-tunnel=127.0.0.6",
                "--addip-client=127.0.0.3");

        // A password file others can read is refused, without showing what is in it.
        Procs.Result open = Procs.runToEnd(List.of(Launchers.dynamicRtunnel().toString(), "--notroot",
                "--remoteip=127.0.0.1", "--remoteport=" + fixed.port(), "--insecure", "--password-file=" + openPwFile),
                Duration.ofSeconds(30));
        runs.add(open);
        assertNotEquals(0, open.exit(), open::toString);
        assertTrue(open.stderr().contains(openPwFile.toString()), () -> "the refusal must name the file: " + open);

        // Right password: from a file (v2), from the environment (v2), on argv (v1).
        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=pwfile",
                "--password-file=" + clientPwFile);
        Procs env = Procs.start(tmp, "dynamic-env", List.of(Launchers.dynamicRtunnel().toString(), "--debug",
                "--notroot", "--remoteip=127.0.0.1", "--remoteport=" + fixed.port(), "--source-ip=127.0.0.2",
                "--localport=" + service.port(), "--hostname=pwenv", "--known-servers=" + tmp.resolve("known")),
                Map.of("RTUNNEL_PASSWORD", PASSWORD));
        procs.add(env);
        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=pwargv",
                "--protocol=1", "--password=" + PASSWORD);
        int filePort = fixed.awaitTunnel(TUNNEL_UP, t -> t.hostname().equals("pwfile"), "tunnel pwfile").port();
        fixed.awaitTunnel(TUNNEL_UP, t -> t.hostname().equals("pwenv"), "tunnel pwenv");
        int argvPort = fixed.awaitTunnel(TUNNEL_UP, t -> t.hostname().equals("pwargv") && t.protocol() != 2,
                "tunnel pwargv over v1").port();
        for (int port : List.of(filePort, argvPort)) {
            try (Socket s = EchoService.connectFrom(Launchers.addr("127.0.0.3"), FixedServer.LOCAL, port,
                    Duration.ofSeconds(15))) {
                assertEquals("SECRET READY\n", new String(s.getInputStream().readNBytes(13), US_ASCII));
            }
        }

        // Wrong password: v2 from the real client, v1 from a byte-level peer.
        Procs wrongV2 = fixed.startDynamic("--source-ip=127.0.0.4", "--localport=" + service.port(),
                "--hostname=wrongv2", "--password=" + WRONG);
        try (V1Peer.Client c = V1Peer.Client.connect(Launchers.addr("127.0.0.6"), FixedServer.LOCAL, fixed.port(),
                V1Peer.password(WRONG), "wrongv1")) {
            assertThrows(IOException.class, () -> c.readMessage(Duration.ofSeconds(10)));
        }
        SecWait.until(Duration.ofSeconds(20), () -> passwordRefusals() >= 2,
                "the server logging both wrong passwords (127.0.0.4 and 127.0.0.6)", fixed::describe);
        SecWait.until(Duration.ofSeconds(20), () -> wrongV2.output().toLowerCase(Locale.ROOT).contains("password"),
                "the v2 client logging why it was refused", wrongV2::output);
        runs.add(fixed.control("--list-tunnels", "--list-allowed-tunnels"));

        List<String> secrets2 = List.of(PASSWORD, WRONG);
        int scanned = SecLogs.assertNoSecretsInLogs(tmp, secrets2);
        assertTrue(scanned >= 5, "expected the logs of the server and four dynamic_rtunnel, scanned " + scanned);
        for (Procs.Result r : runs) {
            SecLogs.assertNoSecrets("the output of a command", r.stdout() + r.stderr(), secrets2);
        }
    }

    private long passwordRefusals() {
        return fixed.log().lines().map(l -> l.toLowerCase(Locale.ROOT))
                .filter(l -> l.contains("password") && (l.contains("127.0.0.4") || l.contains("127.0.0.6")))
                .map(l -> l.contains("127.0.0.4") ? "4" : "6").distinct().count();
    }
}
