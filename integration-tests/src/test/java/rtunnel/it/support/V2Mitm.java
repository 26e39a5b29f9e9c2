package rtunnel.it.support;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.ByteArrayOutputStream;
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
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A man in the middle between dynamic_rtunnel and fixed_rtunnel, as anyone on the path could run
 * one against a dynamic side that does not verify the server: it answers the clear
 * {@code TUNNEL01} greeting, does TLS as server with its own certificate (selecting ALPN
 * {@code rtunnel/2} when offered), dials the real server as a TLS client offering
 * {@code rtunnel/2}, and relays while recording every decrypted byte in both directions.
 */
public final class V2Mitm implements AutoCloseable {

    private static final String ALPN = "rtunnel/2";
    private static final byte[] GREETING = "TUNNEL01".getBytes(ISO_8859_1);
    private static final int HANDSHAKE_TIMEOUT_MS = 10_000;
    private static final char[] STORE_PASS = "v2mitm".toCharArray();

    private final ServerSocket listener;
    private final SSLContext serverTls;
    private final SSLContext clientTls;
    private final InetAddress sourceToFixed;
    private final InetSocketAddress fixed;
    private final ByteArrayOutputStream fromDynamic = new ByteArrayOutputStream();
    private final ByteArrayOutputStream fromFixed = new ByteArrayOutputStream();
    private final AtomicInteger relayed = new AtomicInteger();
    private final List<String> offeredAlpn = new CopyOnWriteArrayList<>();
    private final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private final Queue<Socket> open = new ConcurrentLinkedQueue<>();

    private V2Mitm(ServerSocket listener, SSLContext serverTls, SSLContext clientTls, InetAddress sourceToFixed,
            InetSocketAddress fixed) {
        this.listener = listener;
        this.serverTls = serverTls;
        this.clientTls = clientTls;
        this.sourceToFixed = sourceToFixed;
        this.fixed = fixed;
    }

    /**
     * Listens on {@code bind} and a free port with a fresh key pair of its own (made by keytool in
     * {@code dir}); relays to {@code fixed}, dialing from {@code sourceToFixed}.
     */
    public static V2Mitm start(Path dir, InetAddress bind, InetAddress sourceToFixed, InetSocketAddress fixed)
            throws IOException, GeneralSecurityException {
        V2Mitm m = new V2Mitm(new ServerSocket(0, 50, bind), serverContext(dir), trustAllContext(), sourceToFixed,
                fixed);
        Thread.ofVirtual().name("mitm-accept").start(m::acceptLoop);
        return m;
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Decrypted bytes the dynamic side sent, over all connections. */
    public byte[] fromDynamic() {
        synchronized (fromDynamic) {
            return fromDynamic.toByteArray();
        }
    }

    /** Decrypted bytes the fixed side sent, over all connections. */
    public byte[] fromFixed() {
        synchronized (fromFixed) {
            return fromFixed.toByteArray();
        }
    }

    /** Connections that got through both TLS handshakes and were relayed. */
    public int relayed() {
        return relayed.get();
    }

    /** The ALPN protocols each dynamic side offered, one entry per handshake. */
    public List<String> offeredAlpn() {
        return List.copyOf(offeredAlpn);
    }

    public List<Throwable> errors() {
        return List.copyOf(errors);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                open.add(s);
                Thread.ofVirtual().name("mitm-conn").start(() -> handle(s));
            } catch (IOException e) {
                // Closed by close().
            }
        }
    }

    private void handle(Socket dynRaw) {
        Socket fixRaw = new Socket();
        open.add(fixRaw);
        try {
            dynRaw.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
            byte[] hello = dynRaw.getInputStream().readNBytes(GREETING.length);
            if (hello.length != GREETING.length) {
                throw new IOException("dynamic side sent " + hello.length + " greeting bytes");
            }
            fixRaw.bind(new InetSocketAddress(sourceToFixed, 0));
            fixRaw.connect(fixed, HANDSHAKE_TIMEOUT_MS);
            fixRaw.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
            fixRaw.getOutputStream().write(hello);
            byte[] answer = fixRaw.getInputStream().readNBytes(GREETING.length);
            dynRaw.getOutputStream().write(answer);
            if (answer.length != GREETING.length) {
                throw new IOException("fixed side answered " + answer.length + " greeting bytes");
            }

            SSLSocket dyn = (SSLSocket) serverTls.getSocketFactory().createSocket(dynRaw, null, true);
            dyn.setUseClientMode(false);
            dyn.setHandshakeApplicationProtocolSelector((sock, offered) -> {
                offeredAlpn.add(String.join(",", offered));
                return offered.contains(ALPN) ? ALPN : "";
            });
            dyn.startHandshake();

            SSLSocket fix = (SSLSocket) clientTls.getSocketFactory().createSocket(fixRaw,
                    fixed.getAddress().getHostAddress(), fixed.getPort(), true);
            SSLParameters p = fix.getSSLParameters();
            p.setApplicationProtocols(ALPN.equals(dyn.getApplicationProtocol()) ? new String[] {ALPN} : new String[0]);
            fix.setSSLParameters(p);
            fix.startHandshake();
            dyn.setSoTimeout(0);
            fix.setSoTimeout(0);
            relayed.incrementAndGet();

            Thread up = Thread.ofVirtual().name("mitm-up").start(() -> copy(dyn, fix, fromDynamic));
            copy(fix, dyn, fromFixed);
            up.join(Duration.ofSeconds(30));
        } catch (IOException e) {
            errors.add(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(dynRaw);
            closeQuietly(fixRaw);
            open.remove(dynRaw);
            open.remove(fixRaw);
        }
    }

    /** Copies until EOF or failure, recording; then closes both ends so the other copy ends too. */
    private static void copy(Socket from, Socket to, ByteArrayOutputStream record) {
        byte[] buf = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                synchronized (record) {
                    record.write(buf, 0, n);
                }
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // One side went away: the relay ends.
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static SSLContext serverContext(Path dir) throws IOException, GeneralSecurityException {
        Path store = dir.resolve("mitm.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Procs.Result r = Procs.runToEnd(List.of(keytool.toString(), "-genkeypair", "-keystore", store.toString(),
                "-storetype", "PKCS12", "-storepass", new String(STORE_PASS), "-alias", "mitm",
                "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=not-the-fixed-server",
                "-validity", "2"), Duration.ofSeconds(60));
        if (r.exit() != 0) {
            throw new IOException("keytool failed: " + r);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, STORE_PASS);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, STORE_PASS);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
    }

    private static SSLContext trustAllContext() throws GeneralSecurityException {
        TrustManager trustAll = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
                // A test proxy: it trusts anyone, like the dynamic side it attacks.
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                // Same.
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {trustAll}, null);
        return ctx;
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // Best effort.
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            // Best effort.
        }
        open.forEach(V2Mitm::closeQuietly);
    }
}
