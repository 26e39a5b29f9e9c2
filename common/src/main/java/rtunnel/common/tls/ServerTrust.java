package rtunnel.common.tls;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

import rtunnel.common.cli.RtunnelException;

/**
 * How the dynamic side decides that the server is the right one. The check runs inside the TLS
 * handshake, so a server that fails it never sees a byte of the password (v1) or a MAC (v2).
 */
public final class ServerTrust {
    private ServerTrust() {
    }

    /** Accepts exactly the certificates with one of these SHA-256 fingerprints. */
    public static X509TrustManager pinned(List<byte[]> fingerprints) {
        List<byte[]> pins = List.copyOf(fingerprints);
        return new Check(chain -> {
            byte[] got = Fingerprints.sha256(chain[0]);
            for (byte[] pin : pins) {
                if (MessageDigest.isEqual(pin, got)) {
                    return;
                }
            }
            throw new CertificateException("the server's certificate " + Fingerprints.sha256Base64(chain[0])
                    + " does not match --server-fingerprint; refusing to talk to it");
        });
    }

    /**
     * Verifies the chain against the CA certificates in a PEM file (PKIX, validity dates included).
     * The server is addressed by IP, so no name is checked: trust only a CA that signs your servers.
     */
    public static X509TrustManager caFile(Path file) throws RtunnelException {
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int n = 0;
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca" + n++, c);
            }
            if (n == 0) {
                throw RtunnelException.failure("--cafile " + file + " holds no PEM certificate");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ks);
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    X509TrustManager pkix = x;
                    return new Check(chain -> {
                        try {
                            pkix.checkServerTrusted(chain, "UNKNOWN");
                        } catch (CertificateException e) {
                            throw new CertificateException("the server's certificate is not signed by a CA in "
                                    + file + ": " + e.getMessage(), e);
                        }
                    });
                }
            }
            throw RtunnelException.failure("no X.509 trust manager in this JDK");
        } catch (IOException | GeneralSecurityException e) {
            throw RtunnelException.failure("cannot read --cafile " + file + ": " + e.getMessage(), e);
        }
    }

    /** No check at all: --insecure, the original's behaviour. */
    public static X509TrustManager none() {
        return new Check(chain -> { });
    }

    /** Trust on first use, remembered in a known-servers file under {@code endpoint}. */
    public static X509TrustManager firstUse(KnownServers known, String endpoint) {
        return new Check(chain -> known.check(endpoint, chain[0]));
    }

    /** A check of the server's chain, leaf first. */
    @FunctionalInterface
    interface ChainCheck {
        void check(X509Certificate[] chain) throws CertificateException;
    }

    /** Runs one check for server certificates; client-side use only. */
    static final class Check extends X509ExtendedTrustManager {
        private final ChainCheck check;

        Check(ChainCheck check) {
            this.check = check;
        }

        private void server(X509Certificate[] chain) throws CertificateException {
            if (chain == null || chain.length == 0) {
                throw new CertificateException("the server sent no certificate");
            }
            check.check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            server(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            server(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            server(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    static List<String> lines(Path file) throws IOException {
        return Files.exists(file) ? Files.readAllLines(file) : new ArrayList<>();
    }
}
