package rtunnel.common.tls;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

import rtunnel.common.cli.RtunnelException;

/**
 * The server's private key and certificate chain, read from PEM files as certtool and openssl
 * write them (RSA PKCS#1 and PKCS#8, EC with or without an EC PARAMETERS block, Ed25519, text
 * before the PEM blocks), or generated on first start. BouncyCastle only parses and builds; the
 * keys it hands back are ordinary JDK keys, so TLS itself stays in SunJSSE.
 */
public final class ServerCredentials {
    private static final Duration VALIDITY = Duration.ofDays(20 * 366);
    /** A qualified exception class name inside a message, with the colon after it. */
    private static final Pattern EXCEPTION_NAME =
            Pattern.compile("\\b(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\\b:?\\s*");

    private final PrivateKey key;
    private final List<X509Certificate> chain;
    private final boolean generated;

    private ServerCredentials(PrivateKey key, List<X509Certificate> chain, boolean generated) {
        this.key = key;
        this.chain = List.copyOf(chain);
        this.generated = generated;
    }

    public PrivateKey key() {
        return key;
    }

    /** The server certificate first, then any intermediates in file order. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** True when this start made the key and certificate. */
    public boolean generated() {
        return generated;
    }

    /** {@code SHA256:...} of the server certificate, for pinning on the dynamic side. */
    public String fingerprint() {
        return Fingerprints.sha256Base64(chain.get(0));
    }

    /** Loads both files; generates both when both are missing. */
    public static ServerCredentials loadOrGenerate(Path keyFile, Path certFile, String commonName) throws RtunnelException {
        boolean haveKey = Files.exists(keyFile);
        boolean haveCert = Files.exists(certFile);
        if (!haveKey && !haveCert) {
            return generate(keyFile, certFile, commonName);
        }
        if (!haveKey) {
            throw RtunnelException.failure("certificate " + certFile + " exists but private key " + keyFile
                    + " does not; give --keyfile, or remove the certificate to have a new pair generated");
        }
        if (!haveCert) {
            throw RtunnelException.failure("private key " + keyFile + " exists but certificate " + certFile
                    + " does not; give --certfile, or remove the key to have a new pair generated");
        }
        return load(keyFile, certFile);
    }

    public static ServerCredentials load(Path keyFile, Path certFile) throws RtunnelException {
        PrivateKey key = readKey(keyFile);
        List<X509Certificate> chain = readCertificates(certFile);
        if (!matches(key, keyFile, chain.get(0))) {
            throw RtunnelException.failure("private key " + keyFile + " does not belong to certificate " + certFile);
        }
        return new ServerCredentials(key, chain, false);
    }

    /**
     * A fresh Ed25519 key and a self-signed certificate, written atomically; the key file gets mode
     * 0600. Ed25519 rather than P-256: a client's first handshake runs in a fresh JVM, where checking
     * a P-256 signature costs ~40 ms of interpreted arithmetic and an Ed25519 one reuses the
     * Curve25519 code its X25519 key share has just run; signing stays cheap for a busy server.
     */
    public static ServerCredentials generate(Path keyFile, Path certFile, String commonName) throws RtunnelException {
        try {
            KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            X500Name name = new X500Name("CN=" + cnSafe(commonName));
            Instant now = Instant.now();
            BigInteger serial = new BigInteger(64, new SecureRandom());
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial,
                    Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(VALIDITY)), name, pair.getPublic());
            X509CertificateHolder holder = b.build(new JcaContentSignerBuilder("Ed25519").build(pair.getPrivate()));
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(holder);
            writeAtomically(keyFile, pem(new JcaPKCS8Generator(pair.getPrivate(), null)), true);
            writeAtomically(certFile, pem(cert), false);
            return new ServerCredentials(pair.getPrivate(), List.of(cert), true);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw RtunnelException.failure("cannot generate a key and certificate: " + e.getMessage(), e);
        } catch (IOException e) {
            throw RtunnelException.failure("cannot write " + keyFile + " / " + certFile + ": " + reason(e), e);
        }
    }

    private static String cnSafe(String cn) {
        String s = cn == null ? "" : cn.replaceAll("[^A-Za-z0-9.-]", "");
        return s.isEmpty() ? "fixed_rtunnel" : s;
    }

    static PrivateKey readKey(Path file) throws RtunnelException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1); PEMParser p = new PEMParser(r)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (int i = 0; i < 16; i++) {
                Object o = p.readObject();
                if (o == null) {
                    break;
                }
                if (o instanceof PEMKeyPair kp) {
                    return converter.getPrivateKey(kp.getPrivateKeyInfo());
                }
                if (o instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
                if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
                    throw RtunnelException.failure("private key " + file
                            + " is encrypted; give an unencrypted key (openssl pkey -in KEY -out PLAIN)");
                }
                if (o instanceof ASN1ObjectIdentifier || o instanceof X9ECParameters) {
                    continue; // an EC PARAMETERS block before the key, as certtool and openssl ecparam write
                }
                if (o instanceof X509CertificateHolder) {
                    continue; // a combined file: the key may follow the certificate
                }
            }
            throw RtunnelException.failure("private key " + file + " holds no PEM private key "
                    + "(expected a BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY block)");
        } catch (RtunnelException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw RtunnelException.failure("cannot read private key " + file + ": " + reason(e), e);
        }
    }

    static List<X509Certificate> readCertificates(Path file) throws RtunnelException {
        List<X509Certificate> chain = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1); PEMParser p = new PEMParser(r)) {
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            for (int i = 0; i < 64; i++) {
                Object o = p.readObject();
                if (o == null) {
                    break;
                }
                if (o instanceof X509CertificateHolder h) {
                    chain.add(converter.getCertificate(h));
                }
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw RtunnelException.failure("cannot read certificate " + file + ": " + reason(e), e);
        }
        if (chain.isEmpty()) {
            throw RtunnelException.failure("certificate " + file + " holds no PEM certificate (expected a BEGIN CERTIFICATE block)");
        }
        return chain;
    }

    /** Signs and verifies a probe, which works for every key type without digging into its parameters. */
    private static boolean matches(PrivateKey key, Path keyFile, X509Certificate cert) throws RtunnelException {
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> throw RtunnelException.failure("private key " + keyFile + " is of type " + key.getAlgorithm()
                    + ", which TLS servers cannot use (use RSA, EC or Ed25519)");
        };
        try {
            byte[] probe = "rtunnel key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(cert.getPublicKey());
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String pem(Object o) throws IOException {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(o);
        }
        return w.toString();
    }

    private static void writeAtomically(Path file, String text, boolean secret) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--")));
        try {
            Files.writeString(tmp, text, StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static String reason(Throwable e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return "unreadable (" + e.getClass().getSimpleName() + ")";
        }
        // BouncyCastle nests "problem parsing cert: org.bouncycastle.cert.CertIOException: malformed data";
        // the class names mean nothing to the person who has to fix the file.
        String r = EXCEPTION_NAME.matcher(m.lines().findFirst().orElse(m)).replaceAll("").strip();
        r = r.endsWith(":") ? r.substring(0, r.length() - 1) : r;
        return r.isEmpty() ? "unreadable (" + e.getClass().getSimpleName() + ")" : r;
    }
}
