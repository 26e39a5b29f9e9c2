package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
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
import rtunnel.it.support.V1Peer;

/**
 * Acceptance 3: a wrong password is refused and logged without any password in the logs; the
 * right one works; a server without {@code --password} takes the original's {@code PaSsWoRd}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PasswordIT {

    private static final Duration TUNNEL_UP = Duration.ofSeconds(20);

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
    }

    @Test
    void wrongPasswordIsRefusedAndLoggedWithoutAnyPassword() throws IOException {
        // Printable passwords, so a log that prints the raw bytes as text would show them.
        Random rnd = new Random(System.nanoTime());
        String rightText = letters(rnd);
        String wrongText = letters(rnd);
        String right = HexFormat.of().formatHex(rightText.getBytes(US_ASCII));
        String wrong = HexFormat.of().formatHex(wrongText.getBytes(US_ASCII));
        service = EchoService.start(FixedServer.LOCAL, new byte[0]);
        fixed = FixedServer.start(tmp.resolve("fixed"), right);
        fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-client=127.0.0.3");

        Procs bad = fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(),
                "--hostname=wrongpw", "--password=" + wrong);
        try {
            Procs.waitFor(Duration.ofSeconds(15),
                    () -> fixed.log().toLowerCase(Locale.ROOT).lines().anyMatch(l -> l.contains("password")
                            && (l.contains("wrong") || l.contains("bad") || l.contains("invalid") || l.contains("incorrect"))),
                    "the server logging the wrong password");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + fixed.describe(), e);
        }
        fixed.assertNoTunnelFor(Duration.ofSeconds(2), t -> true, "a wrong password must not get a tunnel");
        bad.stop();

        Procs good = fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(),
                "--hostname=rightpw");
        Tunnel t = fixed.awaitTunnel(TUNNEL_UP, x -> x.hostname().equals("rightpw"), "the tunnel with the right password");
        assertEquals("127.0.0.2", t.remoteip(), t::line);

        String logs = fixed.log() + "\n" + bad.output() + "\n" + good.output();
        for (String secret : List.of(right, wrong, right.toUpperCase(Locale.ROOT), wrong.toUpperCase(Locale.ROOT),
                rightText, wrongText)) {
            assertFalse(logs.contains(secret), () -> "a password (" + secret + ") appears in a log:\n" + logs);
        }
    }

    @Test
    void serverWithoutPasswordOptionTakesTheOriginalDefault() throws Exception {
        fixed = FixedServer.start(tmp.resolve("fixed"), null);
        fixed.controlOk("--addip-tunnel=127.0.0.2");
        try (V1Peer.Client wrongPw = V1Peer.Client.connect(Launchers.addr("127.0.0.2"), FixedServer.LOCAL,
                fixed.port(), V1Peer.password("0123456789abcdef"), "wrong-pw")) {
            assertThrows(IOException.class, () -> wrongPw.readMessage(Duration.ofSeconds(15)),
                    "a wrong password must be answered by a close, not a message");
        }
        fixed.assertNoTunnelFor(Duration.ofMillis(500), t -> true, "a wrong password must not get a tunnel");

        try (V1Peer.Client c = V1Peer.Client.connect(Launchers.addr("127.0.0.2"), FixedServer.LOCAL, fixed.port(),
                V1Peer.DEFAULT_PASSWORD, "v1deflt")) {
            Tunnel t = fixed.awaitTunnel(TUNNEL_UP, x -> x.hostname().equals("v1deflt"),
                    "the tunnel of a v1 client sending PaSsWoRd");
            assertEquals("127.0.0.2", t.remoteip(), t::line);
            assertTrue(t.port() > 0, t::line);
        }
    }

    private static String letters(Random rnd) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            b.append((char) ((rnd.nextBoolean() ? 'A' : 'a') + rnd.nextInt(26)));
        }
        return b.toString();
    }
}
