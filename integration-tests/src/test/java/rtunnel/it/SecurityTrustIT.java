package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
import rtunnel.it.support.V1Peer;

/**
 * Acceptance 1 of the security issue: dynamic_rtunnel verifies the server. Trust on first use
 * records the certificate; an impostor with another certificate on the same address and port is
 * refused loudly and receives no password bytes (the impostor is a byte-level v1 server that
 * records every auth block); a pinned fingerprint and a CA file work and wrong ones are refused;
 * {@code --insecure} talks to anyone.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SecurityTrustIT {

    /** 16 hex digits, so the same password also works against the v1 impostor. */
    private static final String PASSWORD = SecLogs.password(8);
    private static final String TUNNEL_FROM = "127.0.0.2";
    private static final Duration TUNNEL_UP = Duration.ofSeconds(20);
    /** How long a refused dynamic side gets to (wrongly) send something after the refusal. */
    private static final Duration NOTHING_SENT = Duration.ofSeconds(2);

    @TempDir
    Path tmp;

    private FixedServer fixed;
    private EchoService service;
    private V1Peer.Server impostor;
    private final List<Procs> procs = new ArrayList<>();

    @AfterEach
    void stopAll() throws IOException {
        procs.forEach(Procs::stop);
        if (fixed != null) {
            fixed.close();
        }
        if (impostor != null) {
            impostor.close();
        }
        if (service != null) {
            service.close();
        }
        assertTrue(SecLogs.assertNoSecretsInLogs(tmp, List.of(PASSWORD)) > 0, "no log files were scanned");
    }

    @Test
    void firstConnectRecordsTheServerAndAChangedCertificateIsRefusedWithoutSendingThePassword() throws Exception {
        service = EchoService.start(FixedServer.LOCAL, "READY\n".getBytes(US_ASCII));
        fixed = startFixed(tmp.resolve("fixed"));
        int port = fixed.port();
        String realFp = SecFiles.fingerprintFromLog(fixed.log());
        Path known = tmp.resolve("known_servers");

        fixed.startDynamic("--source-ip=" + TUNNEL_FROM, "--localport=" + service.port(), "--hostname=tofu1",
                "--known-servers=" + known);
        fixed.awaitTunnel(TUNNEL_UP, t -> t.hostname().equals("tofu1"), "the first tunnel, trusted on first use");
        assertEquals(List.of("127.0.0.1:" + port + " " + realFp), Files.readAllLines(known),
                "the known-servers file records the server's address, port and fingerprint");
        fixed.close();
        fixed = null;

        // An impostor with its own certificate takes over the same address and port.
        Path fakeKey = tmp.resolve("impostor/fake.key");
        Path fakeCert = tmp.resolve("impostor/fake.cert");
        SecFiles.mkdirs(fakeKey.getParent());
        String fakeFp = SecFiles.generateCert(fakeKey, fakeCert);
        impostor = listenV1(port, fakeKey, fakeCert);
        Procs fooled = startDynamic("dynamic-vs-impostor", port, "tofu2", "--known-servers=" + known);
        Procs.waitFor(Duration.ofSeconds(20), () -> fooled.output().contains("SERVER CERTIFICATE HAS CHANGED"),
                "dynamic_rtunnel refusing the changed certificate; its log:\n" + fooled.output());
        Procs.waitFor(Duration.ofSeconds(10), () -> impostor.greetings().size() >= 2,
                "a second attempt to the impostor (the refusal must hold on retry too)");
        Thread.sleep(NOTHING_SENT.toMillis());
        assertTrue(impostor.auths().isEmpty(), () -> "the impostor received an auth block: " + impostor.auths());
        String warning = fooled.output().lines().filter(l -> l.contains("SERVER CERTIFICATE HAS CHANGED"))
                .findFirst().orElseThrow();
        assertTrue(warning.contains("ERROR"), () -> "the refusal must be logged at ERROR: " + warning);
        assertTrue(warning.contains("remove line 1 of " + known), () -> "the refusal must name file and line: " + warning);
        assertTrue(warning.contains(fakeFp) && warning.contains(realFp),
                () -> "the refusal must show both fingerprints: " + warning);
        assertEquals(List.of("127.0.0.1:" + port + " " + realFp), Files.readAllLines(known),
                "a refused certificate must not replace the recorded one");
        fooled.stop();

        // Control: the same v1 stand-in holding the real key does get the password, so the empty
        // queue above means nothing was sent, not that the stand-in cannot see auth blocks.
        impostor.close();
        impostor = listenV1(port, tmp.resolve("fixed/fixed.key"), tmp.resolve("fixed/fixed.cert"));
        startDynamic("dynamic-vs-real-key", port, "tofu3", "--known-servers=" + known);
        V1Peer.Auth auth = impostor.auths().poll(20, TimeUnit.SECONDS);
        assertNotNull(auth, "the dynamic side never authenticated to the server holding the recorded key");
        assertArrayEquals(V1Peer.password(PASSWORD), auth.password());
        assertEquals("tofu3", auth.hostname());
    }

    @Test
    void pinnedFingerprintIsAcceptedAndAnotherOneRefused() {
        service = startService();
        fixed = startFixed(tmp.resolve("fixed"));
        String realFp = SecFiles.fingerprintFromLog(fixed.log());
        SecFiles.mkdirs(tmp.resolve("other"));
        String otherFp = SecFiles.generateCert(tmp.resolve("other/o.key"), tmp.resolve("other/o.cert"));

        Procs wrong = fixed.startDynamic("--source-ip=" + TUNNEL_FROM, "--localport=" + service.port(),
                "--hostname=pinbad", "--server-fingerprint=" + otherFp);
        Procs.waitFor(Duration.ofSeconds(20), () -> errorLineMentioning(wrong, realFp),
                "an ERROR line naming the server's real fingerprint; log:\n" + wrong.output());
        fixed.assertNoTunnelFor(NOTHING_SENT, t -> t.hostname().equals("pinbad"), "a wrong pin must not get a tunnel");
        wrong.stop();

        fixed.startDynamic("--source-ip=" + TUNNEL_FROM, "--localport=" + service.port(), "--hostname=pinok",
                "--server-fingerprint=" + realFp);
        Tunnel t = fixed.awaitTunnel(TUNNEL_UP, x -> x.hostname().equals("pinok"), "the tunnel with the right pin");
        assertEquals(TUNNEL_FROM, t.remoteip(), t::line);
        assertFalse(Files.exists(fixed.dir().resolve("known_servers")), "with a pin nothing is trusted on first use");
    }

    @Test
    void caFileVerifiesTheServerAndAnotherCaIsRefused() {
        Path dir = tmp.resolve("fixed");
        SecFiles.Ca ca = SecFiles.makeCa(tmp.resolve("ca"), "ca", "rtunnel test CA");
        SecFiles.Ca otherCa = SecFiles.makeCa(tmp.resolve("other-ca"), "other", "rtunnel other CA");
        // FixedServer points --keyfile/--certfile here: the server takes the CA-signed pair as it is.
        SecFiles.signServerCert(ca, dir.resolve("fixed.key"), dir.resolve("fixed.cert"));
        service = startService();
        fixed = startFixed(dir);
        assertEquals(SecFiles.opensslFingerprint(dir.resolve("fixed.cert")), SecFiles.fingerprintFromLog(fixed.log()),
                "the server must serve the openssl-made certificate it was given");

        Procs wrong = fixed.startDynamic("--source-ip=" + TUNNEL_FROM, "--localport=" + service.port(),
                "--hostname=cabad", "--cafile=" + otherCa.cert());
        Procs.waitFor(Duration.ofSeconds(20), () -> wrong.output().lines().anyMatch(l -> l.contains("ERROR")),
                "an ERROR line from dynamic_rtunnel given the wrong CA; log:\n" + wrong.output());
        fixed.assertNoTunnelFor(NOTHING_SENT, t -> t.hostname().equals("cabad"), "a server outside the CA must be refused");
        wrong.stop();

        fixed.startDynamic("--source-ip=" + TUNNEL_FROM, "--localport=" + service.port(), "--hostname=caok",
                "--cafile=" + ca.cert());
        fixed.awaitTunnel(TUNNEL_UP, x -> x.hostname().equals("caok"), "the tunnel verified by the CA file");
        assertFalse(Files.exists(dir.resolve("known_servers")), "with a CA file nothing is trusted on first use");
    }

    @Test
    void insecureTalksToTheServerWithoutVerifyingOrRecordingIt() {
        service = startService();
        fixed = startFixed(tmp.resolve("fixed"));
        fixed.startDynamic("--source-ip=" + TUNNEL_FROM, "--localport=" + service.port(), "--hostname=insec",
                "--insecure");
        fixed.awaitTunnel(TUNNEL_UP, x -> x.hostname().equals("insec"), "the tunnel with --insecure");
        assertFalse(Files.exists(fixed.dir().resolve("known_servers")), "--insecure must not record the server");
    }

    private FixedServer startFixed(Path dir) {
        FixedServer f = FixedServer.start(dir, PASSWORD);
        f.controlOk("--addip-tunnel=" + TUNNEL_FROM);
        return f;
    }

    private static EchoService startService() {
        try {
            return EchoService.start(FixedServer.LOCAL, new byte[0]);
        } catch (IOException e) {
            throw new AssertionError("cannot start the echo service", e);
        }
    }

    private static boolean errorLineMentioning(Procs p, String text) {
        return p.output().lines().anyMatch(l -> l.contains("ERROR") && l.contains(text));
    }

    /** A v1 server on 127.0.0.1:{@code port}, retried briefly while the old listener's port is released. */
    private static V1Peer.Server listenV1(int port, Path key, Path cert) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return new V1Peer.Server(FixedServer.LOCAL, port, key, cert);
            } catch (BindException e) {
                if (attempt >= 50) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    private Procs startDynamic(String name, int port, String hostname, String... extra) {
        List<String> cmd = new ArrayList<>(List.of(Launchers.dynamicRtunnel().toString(), "--debug", "--notroot",
                "--remoteip=127.0.0.1", "--remoteport=" + port, "--source-ip=" + TUNNEL_FROM, "--localport=9",
                "--hostname=" + hostname, "--password=" + PASSWORD));
        cmd.addAll(List.of(extra));
        Procs p = Procs.start(tmp, name, cmd);
        procs.add(p);
        return p;
    }
}
