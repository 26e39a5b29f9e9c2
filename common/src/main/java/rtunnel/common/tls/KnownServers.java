package rtunnel.common.tls;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The known-servers file, like ssh's known_hosts: one line per server, {@code ENDPOINT SHA256:...},
 * where ENDPOINT is {@code address:port} ({@code [v6]:port} for IPv6). Lines starting with '#'
 * are comments. The first certificate seen for an endpoint is recorded; a different one later is
 * refused with a message that names the file and line to fix.
 */
public final class KnownServers {
    private static final Logger log = LoggerFactory.getLogger(KnownServers.class);

    private final Path file;

    public KnownServers(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    synchronized void check(String endpoint, X509Certificate cert) throws CertificateException {
        byte[] got = Fingerprints.sha256(cert);
        String gotText = Fingerprints.sha256Base64(cert);
        List<String> lines;
        try {
            lines = ServerTrust.lines(file);
        } catch (IOException e) {
            throw new CertificateException("cannot read known-servers file " + file + ": " + e.getMessage(), e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String[] f = lines.get(i).trim().split("\\s+");
            if (f.length < 2 || f[0].startsWith("#") || !f[0].equals(endpoint)) {
                continue;
            }
            byte[] want;
            try {
                want = Fingerprints.parse(f[1]);
            } catch (IllegalArgumentException e) {
                throw new CertificateException("known-servers file " + file + " line " + (i + 1)
                        + " is not a fingerprint; fix or remove that line");
            }
            if (MessageDigest.isEqual(want, got)) {
                return;
            }
            String message = "SERVER CERTIFICATE HAS CHANGED for " + endpoint + ": it is now " + gotText
                    + ", but " + file + " line " + (i + 1) + " says " + f[1]
                    + ". Someone may be intercepting the connection (man in the middle), or the server got a "
                    + "new key. Nothing was sent. If the change is expected, remove line " + (i + 1) + " of " + file
                    + " or give --server-fingerprint=" + gotText;
            throw new CertificateException(message);
        }
        try {
            append(endpoint + " " + gotText + "\n");
        } catch (IOException e) {
            throw new CertificateException("cannot record the server in known-servers file " + file + ": "
                    + e.getMessage() + " (give --known-servers=FILE, --server-fingerprint or --insecure)", e);
        }
        log.warn("first connection to {}: trusting its certificate {} from now on (recorded in {})", endpoint,
                gotText, file);
    }

    /** Appends one line and forces it to disk; a crash can lose only the line being added. */
    private void append(String line) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ch.write(java.nio.ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
            ch.force(true);
        }
    }

    /** The base64 SHA-256 text of a fingerprint, for messages. */
    static String text(byte[] digest) {
        return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
    }
}
