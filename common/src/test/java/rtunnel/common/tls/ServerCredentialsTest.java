package rtunnel.common.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import rtunnel.common.cli.RtunnelException;

/**
 * Loads the key fixtures that scripts/make-key-fixtures.sh made with certtool and openssl, and
 * shakes hands with each over real loopback TLS.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ServerCredentialsTest {
    @TempDir
    Path tmp;

    static Path fixture(String name) {
        try {
            var url = ServerCredentialsTest.class.getResource("/keys/" + name);
            if (url == null) {
                throw new IllegalStateException("missing fixture " + name + "; run scripts/make-key-fixtures.sh");
            }
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The certificate as the JDK alone reads it, independent of the BouncyCastle path under test. */
    static X509Certificate jdkCert(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    static Stream<Arguments> goodPairs() {
        return Stream.of(
                Arguments.of("rsa-pkcs1", "RSA"),
                Arguments.of("rsa-pkcs8", "RSA"),
                Arguments.of("ec-openssl", "EC"),
                Arguments.of("ec-certtool", "EC"),
                Arguments.of("rsa-certtool", "RSA"),
                Arguments.of("ed25519", "Ed25519"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goodPairs")
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void everyGoodFixtureLoadsAndServesTls13(String name, String keyType) throws Exception {
        Path key = fixture(name + ".key");
        Path cert = fixture(name + ".cert");
        ServerCredentials creds = ServerCredentials.load(key, cert);

        assertFalse(creds.generated());
        assertEquals(1, creds.chain().size());
        X509Certificate expected = jdkCert(cert);
        assertEquals(expected, creds.chain().get(0));
        assertEquals(Fingerprints.sha256Base64(expected), creds.fingerprint());
        String opensslHex = Files.readString(fixture(name + ".cert.sha256"), StandardCharsets.US_ASCII).strip();
        assertEquals(opensslHex, Fingerprints.sha256Hex(creds.chain().get(0)),
                "our hex fingerprint must equal openssl x509 -fingerprint -sha256");
        assertTrue(keyType.equals("Ed25519") ? Stream.of("Ed25519", "EdDSA").anyMatch(creds.key().getAlgorithm()::equals)
                : creds.key().getAlgorithm().equals(keyType), "key algorithm " + creds.key().getAlgorithm());

        X509Certificate seen = handshake(creds);
        assertEquals(creds.fingerprint(), Fingerprints.sha256Base64(seen));
        assertArrayEquals(Fingerprints.parse(opensslHex), Fingerprints.sha256(seen));
    }

    /**
     * Runs TlsContexts.server against a TlsContexts.trustAll() client on loopback, checks TLS 1.3
     * and that a few bytes cross both ways, and returns the certificate the client saw.
     */
    static X509Certificate handshake(ServerCredentials creds) throws Exception {
        SSLContext serverCtx = TlsContexts.server(creds);
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocket listener = new ServerSocket(0, 1, lo)) {
            CompletableFuture<String> server = CompletableFuture.supplyAsync(() -> {
                try (Socket raw = listener.accept()) {
                    raw.setSoTimeout(10_000);
                    SSLSocket s = TlsContexts.wrapServer(serverCtx, raw);
                    s.startHandshake();
                    InputStream in = s.getInputStream();
                    byte[] ping = in.readNBytes(4);
                    OutputStream out = s.getOutputStream();
                    out.write("pong".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    // No s.close(): a TLS 1.3 close waits for the peer's close_notify, and the
                    // client only closes after this future completes.
                    return new String(ping, StandardCharsets.US_ASCII);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            try (Socket raw = new Socket(lo, listener.getLocalPort())) {
                raw.setSoTimeout(10_000);
                SSLSocket s = TlsContexts.wrapClient(TlsContexts.trustAll(), raw, true);
                s.startHandshake();
                SSLSession session = s.getSession();
                assertEquals("TLSv1.3", session.getProtocol());
                s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                assertEquals("pong", new String(s.getInputStream().readNBytes(4), StandardCharsets.US_ASCII));
                assertEquals("ping", server.get(10, TimeUnit.SECONDS));
                return (X509Certificate) session.getPeerCertificates()[0];
            }
        }
    }

    /** key file, cert file, which of the two the message must name ("key", "cert" or "both"). */
    static Stream<Arguments> brokenPairs() {
        return Stream.of(
                Arguments.of("empty.pem", "rsa-pkcs8.cert", "key"),
                Arguments.of("garbage.pem", "rsa-pkcs8.cert", "key"),
                Arguments.of("truncated.key", "rsa-pkcs8.cert", "key"),
                Arguments.of("corrupt-base64.key", "rsa-pkcs8.cert", "key"),
                Arguments.of("encrypted-pkcs8.key", "ec-openssl.cert", "key"),
                Arguments.of("rsa-pkcs8.cert", "rsa-pkcs8.cert", "key"),
                Arguments.of("x25519.key", "rsa-pkcs8.cert", "key"),
                Arguments.of("rsa-pkcs8.key", "empty.pem", "cert"),
                Arguments.of("rsa-pkcs8.key", "garbage.pem", "cert"),
                Arguments.of("rsa-pkcs8.key", "truncated.key", "cert"),
                Arguments.of("ec-openssl.key", "key-as-cert.cert", "cert"),
                // Keys that do not belong to their certificate: same type, and across types.
                Arguments.of("rsa-pkcs1.key", "rsa-pkcs8.cert", "both"),
                Arguments.of("ec-openssl.key", "ec-certtool.cert", "both"),
                Arguments.of("ed25519.key", "rsa-pkcs1.cert", "both"),
                Arguments.of("rsa-certtool.key", "ec-certtool.cert", "both"));
    }

    @ParameterizedTest(name = "key={0} cert={1}")
    @MethodSource("brokenPairs")
    void everyBrokenFixtureIsOneLineNamingTheFile(String keyName, String certName, String names) {
        Path key = fixture(keyName);
        Path cert = fixture(certName);
        RtunnelException e = assertThrows(RtunnelException.class, () -> ServerCredentials.load(key, cert));
        assertOneLine(e);
        if (!names.equals("cert")) {
            assertTrue(e.getMessage().contains(key.toString()), "names the key file: " + e.getMessage());
        }
        if (!names.equals("key")) {
            assertTrue(e.getMessage().contains(cert.toString()), "names the certificate file: " + e.getMessage());
        }
    }

    /** Well-formed PEM around DER that is not what the label says: the parser's own errors, cleaned up. */
    @ParameterizedTest
    @CsvSource({
        "RSA PRIVATE KEY, MAMCAQE=, key",
        "PRIVATE KEY, MAMCAQE=, key",
        "EC PRIVATE KEY, AAAA, key",
        "DSA PRIVATE KEY, MAMCAQE=, key",
        "FOO, AAAA, key",
        "CERTIFICATE, MAMCAQE=, cert",
        "CERTIFICATE, AAAA, cert"})
    void badDerInsideGoodPemIsOneLine(String label, String base64, String which) throws Exception {
        Path bad = tmp.resolve("bad.pem");
        Files.writeString(bad, "-----BEGIN " + label + "-----\n" + base64 + "\n-----END " + label + "-----\n");
        Path key = which.equals("key") ? bad : fixture("rsa-pkcs8.key");
        Path cert = which.equals("cert") ? bad : fixture("rsa-pkcs8.cert");
        RtunnelException e = assertThrows(RtunnelException.class, () -> ServerCredentials.load(key, cert));
        assertOneLine(e);
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
    }

    @Test
    void anEncryptedKeySaysSoAndHowToFixIt() {
        RtunnelException e = assertThrows(RtunnelException.class,
                () -> ServerCredentials.load(fixture("encrypted-pkcs8.key"), fixture("ec-openssl.cert")));
        assertTrue(e.getMessage().contains("encrypted"), e.getMessage());
        assertTrue(e.getMessage().contains("openssl pkey"), e.getMessage());
    }

    @Test
    void missingAndUnreadableFilesAreOneLine() throws Exception {
        Path missing = tmp.resolve("nope.key");
        RtunnelException e = assertThrows(RtunnelException.class,
                () -> ServerCredentials.load(missing, fixture("rsa-pkcs8.cert")));
        assertOneLine(e);
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("no such file"), e.getMessage());

        Path dir = Files.createDirectory(tmp.resolve("a-directory"));
        e = assertThrows(RtunnelException.class, () -> ServerCredentials.load(fixture("rsa-pkcs8.key"), dir));
        assertOneLine(e);
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());

        // Binary junk (a DER file renamed .pem, say) is just "no PEM block", not a crash.
        Path binary = tmp.resolve("binary.key");
        Files.write(binary, new byte[] {0x30, (byte) 0x82, 0x04, (byte) 0xbd, 0, 1, 2, (byte) 0xff, '\n', '\r', 0});
        e = assertThrows(RtunnelException.class, () -> ServerCredentials.load(binary, fixture("rsa-pkcs8.cert")));
        assertOneLine(e);
        assertTrue(e.getMessage().contains(binary.toString()), e.getMessage());
    }

    @Test
    void aKeyAndCertificateInOneFileLoad() throws Exception {
        Path both = tmp.resolve("both.pem");
        Files.writeString(both, Files.readString(fixture("ec-openssl.cert")) + Files.readString(fixture("ec-openssl.key")));
        ServerCredentials creds = ServerCredentials.load(both, both);
        assertEquals(Fingerprints.sha256Base64(jdkCert(fixture("ec-openssl.cert"))), creds.fingerprint());
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void generateWritesAPrivateKeyAndACertificateThatLoadAgain() throws Exception {
        Path key = tmp.resolve("certs/fixed.key");
        Path cert = tmp.resolve("certs/fixed.cert");
        ServerCredentials made = ServerCredentials.generate(key, cert, "my host\n\"name\"");
        assertTrue(made.generated());
        assertTrue(java.util.Set.of("Ed25519", "EdDSA").contains(made.key().getAlgorithm()),
                "an Ed25519 key (cheap for a fresh client JVM to check), not " + made.key().getAlgorithm());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        assertTrue(Files.readString(key).startsWith("-----BEGIN PRIVATE KEY-----"), "PKCS#8 PEM");
        assertTrue(Files.readString(cert).startsWith("-----BEGIN CERTIFICATE-----"));
        try (var files = Files.list(key.getParent())) {
            assertEquals(2, files.count(), "no temporary files left behind");
        }
        X509Certificate c = jdkCert(cert);
        c.checkValidity();
        c.verify(c.getPublicKey());
        assertEquals("CN=myhostname", c.getSubjectX500Principal().getName());

        ServerCredentials loaded = ServerCredentials.load(key, cert);
        assertFalse(loaded.generated());
        assertEquals(made.fingerprint(), loaded.fingerprint());
        assertEquals(made.fingerprint(), Fingerprints.sha256Base64(handshake(loaded)));

        // Generating again over existing files replaces both, keeping the key private.
        ServerCredentials again = ServerCredentials.generate(key, cert, "");
        assertNotEquals(made.fingerprint(), again.fingerprint());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        assertEquals("CN=fixed_rtunnel", jdkCert(cert).getSubjectX500Principal().getName());
        assertEquals(again.fingerprint(), ServerCredentials.load(key, cert).fingerprint());
    }

    @Test
    void loadOrGenerateMakesAPairOnceThenLoadsIt() throws Exception {
        Path key = tmp.resolve("k/fixed.key");
        Path cert = tmp.resolve("k/fixed.cert");
        ServerCredentials first = ServerCredentials.loadOrGenerate(key, cert, "h");
        assertTrue(first.generated());
        ServerCredentials second = ServerCredentials.loadOrGenerate(key, cert, "h");
        assertFalse(second.generated());
        assertEquals(first.fingerprint(), second.fingerprint());
    }

    @Test
    void loadOrGenerateWithOneOfTheTwoFilesMissingIsAClearError() throws Exception {
        Path key = tmp.resolve("fixed.key");
        Path cert = tmp.resolve("fixed.cert");
        Files.copy(fixture("ec-openssl.key"), key);
        RtunnelException e = assertThrows(RtunnelException.class, () -> ServerCredentials.loadOrGenerate(key, cert, "h"));
        assertOneLine(e);
        assertTrue(e.getMessage().contains(key.toString()) && e.getMessage().contains(cert.toString())
                && e.getMessage().contains("does not"), e.getMessage());
        assertFalse(Files.exists(cert), "nothing generated next to an existing key");

        Files.delete(key);
        Files.copy(fixture("ec-openssl.cert"), cert);
        e = assertThrows(RtunnelException.class, () -> ServerCredentials.loadOrGenerate(key, cert, "h"));
        assertOneLine(e);
        assertTrue(e.getMessage().contains(key.toString()) && e.getMessage().contains("does not"), e.getMessage());
        assertFalse(Files.exists(key), "nothing generated next to an existing certificate");
        assertEquals(Files.readString(fixture("ec-openssl.cert")), Files.readString(cert), "certificate untouched");
    }

    @Test
    void fingerprintParseAcceptsBothPrintedForms() throws Exception {
        X509Certificate c = jdkCert(fixture("rsa-pkcs1.cert"));
        byte[] digest = Fingerprints.sha256(c);
        String b64 = Fingerprints.sha256Base64(c);
        String hex = Fingerprints.sha256Hex(c);
        assertTrue(b64.startsWith("SHA256:") && !b64.endsWith("="), b64);
        assertEquals(32 * 3 - 1, hex.length());
        assertArrayEquals(digest, Fingerprints.parse(b64));
        assertArrayEquals(digest, Fingerprints.parse("  " + b64 + "\n"));
        assertArrayEquals(digest, Fingerprints.parse("sha256:" + b64.substring(7)));
        assertArrayEquals(digest, Fingerprints.parse("SHA256:" + Base64.getEncoder().encodeToString(digest)));
        assertArrayEquals(digest, Fingerprints.parse(hex));
        assertArrayEquals(digest, Fingerprints.parse(hex.toLowerCase()));
        assertArrayEquals(digest, Fingerprints.parse(HexFormat.of().formatHex(digest)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "SHA256:", "SHA256:abc", "SHA256:!!!!", "MD5:00",
            "00", "zz", "SHA256 Fingerprint=AB",
            "00112233445566778899001122334455667788990011223344556677889900112233",
            "gg112233445566778899001122334455667788990011223344556677889900"})
    void fingerprintParseRejectsJunk(String junk) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Fingerprints.parse(junk));
        assertTrue(e.getMessage().contains("SHA-256 fingerprint"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void fingerprintParseRejectsADigestOfTheWrongLength() {
        assertThrows(IllegalArgumentException.class,
                () -> Fingerprints.parse("SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(new byte[31])));
        assertThrows(IllegalArgumentException.class,
                () -> Fingerprints.parse("SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(new byte[33])));
        assertThrows(IllegalArgumentException.class, () -> Fingerprints.parse(HexFormat.of().formatHex(new byte[31])));
        assertThrows(IllegalArgumentException.class, () -> Fingerprints.parse(null));
    }

    static void assertOneLine(RtunnelException e) {
        String m = e.getMessage();
        assertEquals(RtunnelException.FAILURE, e.exitCode());
        assertFalse(m == null || m.isBlank(), "a message");
        assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
        assertFalse(m.contains("\tat ") || m.contains("Exception"), "no stack trace or exception class names: " + m);
        assertTrue(m.length() < 400, "short: " + m);
    }
}
