package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
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
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2Mitm;
import rtunnel.it.support.V2TestService;

/**
 * Issue 3, acceptance 9: the password never crosses the wire, not even inside TLS, and a
 * response made for one server certificate does not work for another (a man in the middle who
 * terminates TLS sees no password and cannot log in); a wrong password is refused with the reason.
 */
class V2AuthIT {

    /** Where the man in the middle dials the real server from; allowed as a tunnel address. */
    private static final String MITM_SOURCE = "127.0.0.5";
    private static final String BAD_PASSWORD = "(?i)bad password";

    @TempDir
    Path tmp;

    private FixedServer fixed;
    private V2TestService service;
    private V2Mitm mitm;
    private Procs viaMitm;

    @AfterEach
    void stopAll() throws IOException {
        if (viaMitm != null) {
            viaMitm.stop();
        }
        if (mitm != null) {
            mitm.close();
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
    void aManInTheMiddleSeesNoPasswordAndCannotLogIn() throws Exception {
        String password = V2Fixture.password(32); // 64 hex digits, the longest v2 allows
        byte[] raw = HexFormat.of().parseHex(password);
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = V2Fixture.startFixed(tmp.resolve("fixed"), password);
        fixed.controlOk("--addip-tunnel=" + MITM_SOURCE);

        // Control: the very same options work when the dynamic side talks to the server directly.
        Procs direct = V2Fixture.startDynamic(fixed, "v2-mitm", service.port());
        V2Fixture.echoSession(V2Fixture.awaitV2(fixed, "v2-mitm").port(), "direct");
        direct.stop();
        fixed.awaitNoTunnel(Duration.ofSeconds(15), t -> t.hostname().equals("v2-mitm"),
                "the direct tunnel to go away");

        // A dynamic side that does not verify the server (--insecure, as protocol v1 never did):
        // the case where only the channel binding of the v2 response keeps the password safe.
        Path mitmDir = Files.createDirectories(tmp.resolve("mitm"));
        mitm = V2Mitm.start(mitmDir, FixedServer.LOCAL, Launchers.addr(MITM_SOURCE),
                new InetSocketAddress(FixedServer.LOCAL, fixed.port()));
        viaMitm = Procs.start(mitmDir, "dynamic-via-mitm", List.of(Launchers.dynamicRtunnel().toString(),
                "--debug", "--notroot", "--remoteip=127.0.0.1", "--remoteport=" + mitm.port(),
                "--password=" + password, "--insecure", "--source-ip=" + V2Fixture.DYNAMIC_HOST, "--hostname=v2-mitm",
                "--localport=" + service.port()));
        V2Fixture.awaitLog(viaMitm, V2Fixture.TUNNEL_UP, BAD_PASSWORD,
                "the dynamic side behind the man in the middle to be refused with \"bad password\"", fixed);
        String why = "\n--- dynamic via mitm:\n" + viaMitm.output() + "\n" + fixed.describe()
                + "\n--- mitm errors: " + mitm.errors();
        fixed.assertNoTunnelFor(Duration.ofSeconds(1), t -> t.hostname().equals("v2-mitm"),
                "the man in the middle must not get a tunnel");

        assertTrue(mitm.relayed() >= 1, () -> "no connection got through both TLS handshakes" + why);
        assertTrue(mitm.offeredAlpn().stream().anyMatch(a -> a.contains("rtunnel/2")),
                () -> "the dynamic side offered " + mitm.offeredAlpn() + why);
        byte[] up = mitm.fromDynamic();
        byte[] down = mitm.fromFixed();
        // The capture works: the HELLO with the hostname went through it, and the server's CHALLENGE.
        assertTrue(indexOf(up, "v2-mitm".getBytes(UTF_8)) >= 0, () -> "the capture lacks the HELLO" + why);
        assertTrue(down.length >= 32, () -> "the capture lacks the CHALLENGE" + why);
        for (byte[] captured : List.of(up, down)) {
            assertNoSecret(captured, raw, "the raw password");
            assertNoSecret(captured, Arrays.copyOf(raw, 8), "the password's first 8 bytes");
            assertNoSecret(captured, password.toLowerCase(Locale.ROOT).getBytes(US_ASCII), "the password as hex");
            assertNoSecret(captured, password.toUpperCase(Locale.ROOT).getBytes(US_ASCII), "the password as HEX");
        }
        assertFalse(fixed.log().contains(password), "the server's log shows the password");
        assertFalse(viaMitm.output().contains(password), "the dynamic side's log shows the password");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aWrongPasswordIsRefusedAsBadPassword() throws Exception {
        String password = V2Fixture.password(8);
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = V2Fixture.startFixed(tmp.resolve("fixed"), password);
        Procs wrong = V2Fixture.startDynamic(fixed, "v2-wrong", service.port(),
                "--password=" + V2Fixture.password(8));
        V2Fixture.awaitLog(wrong, V2Fixture.TUNNEL_UP, BAD_PASSWORD,
                "the dynamic side with a wrong password to log \"bad password\"", fixed);
        fixed.assertNoTunnelFor(Duration.ofSeconds(1), t -> t.hostname().equals("v2-wrong"),
                "a wrong password must not get a tunnel");
        assertFalse(fixed.log().contains(password), "the server's log shows the password");
    }

    private static void assertNoSecret(byte[] captured, byte[] secret, String what) {
        int at = indexOf(captured, secret);
        assertTrue(at < 0, () -> what + " crossed the wire inside TLS at offset " + at + " of " + captured.length);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
