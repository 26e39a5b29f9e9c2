package rtunnel.it.support;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Byte-level stand-ins for the original C programs, speaking wire protocol v1 (SPEC A3) with plain
 * JSSE. Deliberately independent of the project's classes: an interop test against our own
 * protocol code would prove nothing if both ends shared that code.
 */
public final class V1Peer {

    public static final String GREETING = "TUNNEL01";
    public static final String KEEPALIVE = "00000001";
    public static final String START = "00000002";
    /** What the original dynamic_rtunnel always sends, whatever its --password says. */
    public static final byte[] DEFAULT_PASSWORD = "PaSsWoRd".getBytes(ISO_8859_1);
    /** Both the original's timeouts for the greeting and the auth block. */
    private static final int HANDSHAKE_TIMEOUT_MS = 10_000;
    /** GnuTLS 3.7 defaults offer 1.3 and 1.2 (and older ones that JSSE disables anyway). */
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private V1Peer() {
    }

    /** The 8 password bytes of a {@code --password=HEX16} value. */
    public static byte[] password(String hex16) {
        byte[] b = HexFormat.of().parseHex(hex16);
        if (b.length != 8) {
            throw new IllegalArgumentException("password must be 16 hex digits: " + hex16);
        }
        return b;
    }

    /** The 16-byte auth block: 8 password bytes, then the hostname NUL-padded or cut to 8 bytes. */
    public static byte[] authBlock(byte[] password, String hostname) {
        if (password.length != 8) {
            throw new IllegalArgumentException("v1 password is 8 bytes, got " + password.length);
        }
        byte[] block = new byte[16];
        System.arraycopy(password, 0, block, 0, 8);
        byte[] name = hostname.getBytes(UTF_8);
        System.arraycopy(name, 0, block, 8, Math.min(8, name.length));
        return block;
    }

    /** What a v1 server learned from the auth block, and from whom. */
    public record Auth(byte[] password, String hostname, InetAddress peer) {
        @Override
        public String toString() {
            return "Auth[password=" + HexFormat.of().formatHex(password) + ", hostname=" + hostname
                    + ", peer=" + peer.getHostAddress() + "]";
        }
    }

    private static byte[] readExactly(InputStream in, int n, String what) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new EOFException("peer closed during " + what + " after " + b.length + " of " + n
                    + " bytes: " + new String(b, ISO_8859_1));
        }
        return b;
    }

    /** Plays the original dynamic_rtunnel: dials, greets, TLS without verification, auth block. */
    public static final class Client implements AutoCloseable {
        private final Socket raw;
        private SSLSocket tls;

        private Client(Socket raw) {
            this.raw = raw;
        }

        /** Opens TCP from {@code bind} (so the server's tunnel allowlist sees that address). */
        public static Client open(InetAddress bind, InetAddress server, int port) throws IOException {
            Socket s = new Socket();
            try {
                s.bind(new InetSocketAddress(bind, 0));
                s.connect(new InetSocketAddress(server, port), HANDSHAKE_TIMEOUT_MS);
                s.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
            } catch (IOException e) {
                s.close();
                throw e;
            }
            return new Client(s);
        }

        /** All of steps 1 to 5: open, greet, TLS, auth. */
        public static Client connect(InetAddress bind, InetAddress server, int port, byte[] password,
                String hostname) throws IOException {
            Client c = open(bind, server, port);
            try {
                return c.greet().startTls().sendAuth(password, hostname);
            } catch (IOException | RuntimeException e) {
                c.close();
                throw e;
            }
        }

        /** Sends {@code TUNNEL01} in clear and expects the same back. */
        public Client greet() throws IOException {
            raw.getOutputStream().write(GREETING.getBytes(ISO_8859_1));
            String answer = new String(readExactly(raw.getInputStream(), 8, "greeting"), ISO_8859_1);
            if (!GREETING.equals(answer)) {
                throw new IOException("expected " + GREETING + " from server, got " + answer);
            }
            return this;
        }

        /** TLS client handshake on the same socket, trusting any certificate, no SNI, no ALPN. */
        public Client startTls() throws IOException {
            SSLContext ctx;
            try {
                ctx = SSLContext.getInstance("TLS");
                ctx.init(null, new TrustManager[] {new TrustAll()}, null);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("JSSE without TLS", e);
            }
            // A null host keeps JSSE from sending SNI; the empty list makes sure of it.
            tls = (SSLSocket) ctx.getSocketFactory().createSocket(raw, null, raw.getPort(), true);
            SSLParameters p = tls.getSSLParameters();
            p.setServerNames(List.of());
            p.setProtocols(PROTOCOLS);
            tls.setSSLParameters(p);
            tls.startHandshake();
            return this;
        }

        /** Sends the 16-byte auth block as one write, hence one TLS record like the original. */
        public Client sendAuth(byte[] password, String hostname) throws IOException {
            OutputStream out = tls.getOutputStream();
            out.write(authBlock(password, hostname));
            out.flush();
            tls.setSoTimeout(0);
            return this;
        }

        /** Reads one 8-byte control message ({@link #KEEPALIVE} or {@link #START}). */
        public String readMessage(Duration timeout) throws IOException {
            tls.setSoTimeout((int) Math.max(1, timeout.toMillis()));
            try {
                return new String(readExactly(tls.getInputStream(), 8, "control message"), ISO_8859_1);
            } finally {
                tls.setSoTimeout(0);
            }
        }

        /** Session bytes from the server (after {@link #START}). */
        public InputStream in() throws IOException {
            return tls.getInputStream();
        }

        /** Session bytes to the server (after {@link #START}). */
        public OutputStream out() throws IOException {
            return tls.getOutputStream();
        }

        /** The TLS socket (null before {@link #startTls}), e.g. to read the negotiated session. */
        public SSLSocket tls() {
            return tls;
        }

        /** Drops the TCP connection without a TLS close_notify, as the original programs do. */
        public void closeAbruptly() {
            closeQuietly(raw);
        }

        @Override
        public void close() throws IOException {
            if (tls != null && !raw.isClosed()) {
                tls.close();
            }
            raw.close();
        }
    }

    /** Plays the original fixed_rtunnel: greets back, TLS server, reads auth, then lets the test drive. */
    public static final class Server implements AutoCloseable {
        private final ServerSocket listener;
        private final SSLSocketFactory factory;
        private final BlockingQueue<Conn> conns = new LinkedBlockingQueue<>();
        private final BlockingQueue<Auth> auths = new LinkedBlockingQueue<>();
        private final BlockingQueue<String> greetings = new LinkedBlockingQueue<>();
        private final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
        private final Queue<Socket> open = new ConcurrentLinkedQueue<>();
        /** The key exchange groups the server accepts; null for JSSE's defaults. */
        private volatile String[] namedGroups;

        /** Listens on {@code bind:port} (0 for any) with a PEM PKCS#8 key and X.509 certificate. */
        public Server(InetAddress bind, int port, Path key, Path cert) throws IOException, GeneralSecurityException {
            factory = serverContext(key, cert).getSocketFactory();
            listener = new ServerSocket(port, 50, bind);
            Thread.ofVirtual().name("v1peer-accept").start(this::acceptLoop);
        }

        /** Accepts only these key exchange groups from now on (a server without X25519, say). */
        public Server namedGroups(String... groups) {
            namedGroups = groups.clone();
            return this;
        }

        public int port() {
            return listener.getLocalPort();
        }

        public InetAddress address() {
            return listener.getInetAddress();
        }

        /** Every auth block received, in order. */
        public BlockingQueue<Auth> auths() {
            return auths;
        }

        /** The first 8 bytes of every connection, in order (a v2 client's attempt shows up here). */
        public BlockingQueue<String> greetings() {
            return greetings;
        }

        /**
         * The next connection that got through greeting, TLS and auth. A connection whose
         * greeting is not {@code TUNNEL01} is recorded and closed, as the original does.
         */
        public Conn accept(Duration timeout) throws InterruptedException {
            Conn c = conns.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (c == null) {
                throw new AssertionError("no v1 tunnel within " + timeout + "; greetings so far " + greetings
                        + ", errors " + errors);
            }
            return c;
        }

        private void acceptLoop() {
            while (!listener.isClosed()) {
                try {
                    Socket s = listener.accept();
                    open.add(s);
                    Thread.ofVirtual().name("v1peer-conn").start(() -> handshake(s));
                } catch (IOException e) {
                    if (!listener.isClosed()) {
                        errors.add(e);
                    }
                }
            }
        }

        private void handshake(Socket raw) {
            try {
                raw.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
                String greeting = new String(raw.getInputStream().readNBytes(8), ISO_8859_1);
                greetings.add(greeting);
                if (!GREETING.equals(greeting)) {
                    raw.close();
                    return;
                }
                raw.getOutputStream().write(GREETING.getBytes(ISO_8859_1));
                // The 8 greeting bytes were read exactly, so nothing is consumed ahead of TLS.
                SSLSocket tls = (SSLSocket) factory.createSocket(raw, null, true);
                tls.setEnabledProtocols(PROTOCOLS);
                String[] groups = namedGroups;
                if (groups != null) {
                    SSLParameters p = tls.getSSLParameters();
                    p.setNamedGroups(groups);
                    tls.setSSLParameters(p);
                }
                tls.startHandshake();
                byte[] block = readExactly(tls.getInputStream(), 16, "auth block");
                int nul = 8;
                while (nul < 16 && block[nul] != 0) {
                    nul++;
                }
                Auth auth = new Auth(Arrays.copyOf(block, 8), new String(block, 8, nul - 8, UTF_8),
                        raw.getInetAddress());
                auths.add(auth);
                tls.setSoTimeout(0);
                conns.add(new Conn(raw, tls, auth));
            } catch (IOException | RuntimeException e) {
                errors.add(e);
                closeQuietly(raw);
            }
        }

        /** Stops listening and drops every connection it accepted. */
        @Override
        public void close() throws IOException {
            listener.close();
            open.forEach(V1Peer::closeQuietly);
        }

        private static SSLContext serverContext(Path keyFile, Path certFile)
                throws IOException, GeneralSecurityException {
            PrivateKey key = readPkcs8(keyFile);
            Certificate[] chain;
            try (InputStream in = Files.newInputStream(certFile)) {
                chain = CertificateFactory.getInstance("X.509").generateCertificates(in)
                        .toArray(new Certificate[0]);
            }
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate)) {
                throw new GeneralSecurityException("no X.509 certificate in " + certFile);
            }
            char[] pass = "v1peer".toCharArray();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("v1peer", key, pass, chain);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pass);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        }

        private static PrivateKey readPkcs8(Path keyFile) throws IOException, GeneralSecurityException {
            String pem = Files.readString(keyFile, ISO_8859_1);
            String begin = "-----BEGIN PRIVATE KEY-----";
            String end = "-----END PRIVATE KEY-----";
            int b = pem.indexOf(begin);
            int e = pem.indexOf(end);
            if (b < 0 || e < b) {
                throw new InvalidKeySpecException(keyFile + " holds no PKCS#8 PRIVATE KEY block;"
                        + " convert it with: openssl pkcs8 -topk8 -nocrypt");
            }
            byte[] der = Base64.getMimeDecoder().decode(pem.substring(b + begin.length(), e));
            for (String alg : List.of("EC", "RSA", "Ed25519")) {
                try {
                    return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
                } catch (InvalidKeySpecException ignored) {
                    // Not this algorithm: PKCS#8 names it inside, trying each is simpler than parsing.
                }
            }
            throw new InvalidKeySpecException(keyFile + ": not an EC, RSA or Ed25519 PKCS#8 key");
        }
    }

    /** One tunnel connection as the v1 server sees it after auth. */
    public static final class Conn implements AutoCloseable {
        private final Socket raw;
        private final SSLSocket tls;
        private final Auth auth;

        private Conn(Socket raw, SSLSocket tls, Auth auth) {
            this.raw = raw;
            this.tls = tls;
            this.auth = auth;
        }

        public Auth auth() {
            return auth;
        }

        /** The server's TLS socket, to check what the client offered (SNI, ALPN, version). */
        public SSLSocket tls() {
            return tls;
        }

        public void sendKeepalive() throws IOException {
            send(KEEPALIVE);
        }

        /** Tells the dynamic side a client came; session bytes follow on {@link #in()}/{@link #out()}. */
        public void sendStart() throws IOException {
            send(START);
        }

        private void send(String message) throws IOException {
            OutputStream out = tls.getOutputStream();
            out.write(message.getBytes(ISO_8859_1)); // one write, one 8-byte record
            out.flush();
        }

        public InputStream in() throws IOException {
            return tls.getInputStream();
        }

        public OutputStream out() throws IOException {
            return tls.getOutputStream();
        }

        /** Ends the session the way the original does: TCP close, no TLS close_notify. */
        public void closeAbruptly() {
            closeQuietly(raw);
        }

        /** Orderly close with close_notify. */
        @Override
        public void close() throws IOException {
            tls.close();
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // Closing is best effort in a test helper.
        }
    }

    /** The original dynamic_rtunnel verifies nothing; neither does its stand-in. */
    private static final class TrustAll implements X509TrustManager {
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
    }
}
