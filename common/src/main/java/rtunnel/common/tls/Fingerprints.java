package rtunnel.common.tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;

/** Certificate fingerprints in the two forms people pin: ssh style and openssl style. */
public final class Fingerprints {
    private Fingerprints() {
    }

    /** SHA-256 over the certificate's DER encoding. */
    public static byte[] sha256(X509Certificate cert) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot hash certificate: " + e.getMessage(), e);
        }
    }

    /** {@code SHA256:<unpadded base64>}, as ssh prints key fingerprints. */
    public static String sha256Base64(X509Certificate cert) {
        return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(sha256(cert));
    }

    /** {@code AB:CD:...}, as {@code openssl x509 -noout -fingerprint -sha256} prints it. */
    public static String sha256Hex(X509Certificate cert) {
        return HexFormat.ofDelimiter(":").withUpperCase().formatHex(sha256(cert));
    }

    /** {@code SHA256:<unpadded base64>} of a digest. */
    public static String text(byte[] digest) {
        return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
    }

    /** Any accepted form of a fingerprint, in the one form used for storing and comparing. */
    public static String canonical(String text) {
        return text(parse(text));
    }

    /**
     * Parses a pinned fingerprint in either form (SHA256:base64, or hex with or without colons)
     * into the 32 digest bytes; throws IllegalArgumentException with a clear message otherwise.
     */
    public static byte[] parse(String text) {
        String t = text == null ? "" : text.trim();
        byte[] d = null;
        try {
            if (t.regionMatches(true, 0, "SHA256:", 0, 7)) {
                d = Base64.getDecoder().decode(t.substring(7));
            } else {
                d = HexFormat.of().parseHex(t.replace(":", ""));
            }
        } catch (IllegalArgumentException e) {
            d = null;
        }
        if (d == null || d.length != 32) {
            throw new IllegalArgumentException("'" + (t.length() > 100 ? t.substring(0, 100) + "..." : t)
                    + "' is not a SHA-256 fingerprint (SHA256:base64 as fixed_rtunnel prints it, or 64 hex digits)");
        }
        return d;
    }
}
