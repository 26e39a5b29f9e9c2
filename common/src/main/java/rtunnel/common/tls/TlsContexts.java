package rtunnel.common.tls;

import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

import rtunnel.common.cli.RtunnelException;

/**
 * TLS set-up for both programs: SunJSSE, TLS 1.3 and 1.2 only, no SNI (the original sends none
 * and the server has one certificate). The TLS layer is started on a socket that has already
 * carried the clear-text TUNNEL01 exchange, so sockets are wrapped rather than created.
 */
public final class TlsContexts {
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /**
     * The groups a client offers first: X25519 (and X448) only. Offered every group, JSSE sends a
     * key share for the first of each kind, X25519 and P-256, and a fresh JVM spends ~40 ms
     * making the P-256 one that our servers never take. A server without X25519 or X448 refuses
     * this hello; the client then dials again offering every group ({@code narrowGroups} false).
     */
    static final String[] FAST_GROUPS = {"x25519", "x448"};

    private TlsContexts() {
    }

    public static SSLContext server(ServerCredentials creds) throws RtunnelException {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            // Device certificates are self-signed: any is accepted in TLS, and judged afterwards by
            // its fingerprint against the approved list (see the server's device registry).
            ctx.init(keyManagers(creds), new TrustManager[] {new TrustAll()}, null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw RtunnelException.failure("cannot set up TLS with this key and certificate: " + e.getMessage(), e);
        }
    }

    /** A client context that checks the server with {@code trust} and presents {@code device} when asked. */
    public static SSLContext client(X509TrustManager trust, ServerCredentials device) throws RtunnelException {
        if (device == null) {
            return client(trust);
        }
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keyManagers(device), new TrustManager[] {trust}, null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw RtunnelException.failure("cannot set up TLS with the device key: " + e.getMessage(), e);
        }
    }

    /** Key managers presenting this key and chain (an in-memory key store, never written out). */
    private static KeyManager[] keyManagers(ServerCredentials creds) throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] none = new char[0];
        ks.setKeyEntry("key", creds.key(), none, creds.chain().toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, none);
        return kmf.getKeyManagers();
    }

    /** The certificate the client presented, or null. */
    public static X509Certificate peerCertificate(SSLSocket s) {
        try {
            Certificate[] chain = s.getSession().getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            return null;
        }
    }

    /** A client context that checks the server with the given trust manager. */
    public static SSLContext client(X509TrustManager trust) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {trust}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TLS is not available in this JDK: " + e.getMessage(), e);
        }
    }

    /** A client context that accepts any server certificate: only with an explicit option, as the original did. */
    public static SSLContext trustAll() {
        return client(new TrustAll());
    }

    /**
     * Wraps an accepted socket as the TLS server. When the client offers one of {@code alpn} it is
     * selected; a client that offers none (the original) or others gets no ALPN and speaks v1.
     */
    public static SSLSocket wrapServer(SSLContext ctx, Socket raw, String... alpn) throws IOException {
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, null, raw.getPort(), true);
        s.setUseClientMode(false);
        s.setEnabledProtocols(PROTOCOLS);
        s.setEnabledCipherSuites(preferAes128(s.getEnabledCipherSuites()));
        SSLParameters params = s.getSSLParameters();
        params.setUseCipherSuitesOrder(true);
        s.setSSLParameters(params);
        s.setWantClientAuth(true); // a device key, when the client has one; never required by TLS itself
        List<String> ours = List.of(alpn);
        s.setHandshakeApplicationProtocolSelector((sock, offered) -> {
            for (String name : offered) {
                if (ours.contains(name)) {
                    return name;
                }
            }
            return ""; // no ALPN in the answer: the peer speaks v1
        });
        return s;
    }

    /**
     * Wraps a connected socket as a TLS client; {@code alpn} may be empty (v1: the original offers
     * none); {@code narrowGroups} offers only {@link #FAST_GROUPS}, else JSSE's whole list.
     */
    public static SSLSocket wrapClient(SSLContext ctx, Socket raw, boolean narrowGroups, String... alpn)
            throws IOException {
        // A null host keeps the JDK from sending SNI.
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, null, raw.getPort(), true);
        s.setUseClientMode(true);
        SSLParameters p = s.getSSLParameters();
        p.setProtocols(PROTOCOLS);
        p.setCipherSuites(preferAes128(s.getEnabledCipherSuites()));
        p.setServerNames(List.of());
        if (narrowGroups) {
            p.setNamedGroups(FAST_GROUPS);
        }
        if (alpn.length > 0) {
            p.setApplicationProtocols(alpn);
        }
        s.setSSLParameters(p);
        return s;
    }

    /**
     * The same suites with AES-128-GCM first: as safe as AES-256 for this use and the fastest in
     * JSSE on CPUs with AES instructions (ChaCha20 is several times slower in Java there).
     */
    static String[] preferAes128(String[] enabled) {
        List<String> out = new java.util.ArrayList<>();
        for (String c : enabled) {
            if (c.contains("AES_128_GCM")) {
                out.add(c);
            }
        }
        for (String c : enabled) {
            if (!c.contains("AES_128_GCM")) {
                out.add(c);
            }
        }
        return out.toArray(new String[0]);
    }

    /** Accepts every certificate; the checks that matter are done by the caller where wanted. */
    static final class TrustAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }
    }
}
