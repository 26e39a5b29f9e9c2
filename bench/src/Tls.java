import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/** JSSE helpers: the direct TLS baseline (TLS 1.3, AES-128-GCM) and a client that trusts anything. */
final class Tls {
    static final String SUITE = "TLS_AES_128_GCM_SHA256";

    static SSLContext trustAll() throws Exception {
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, new TrustManager[] {new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] chain, String type) {
            }

            public void checkServerTrusted(X509Certificate[] chain, String type) {
            }

            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return c;
    }

    /** A TLS 1.3 server serving {@link Service} on loopback port 0, keyed with a keytool-made EC key. */
    static int listen(Path dir) throws Exception {
        return listen(dir, List.of("-keyalg", "EC", "-groupname", "secp256r1"));
    }

    /** The same with an Ed25519 key: the kind our servers make, and the cheapest to check in a fresh JVM. */
    static int listenEd25519(Path dir) throws Exception {
        return listen(dir, List.of("-keyalg", "Ed25519"));
    }

    private static int listen(Path dir, List<String> keyAlg) throws Exception {
        Path ks = Files.createTempFile(dir, "tls", ".p12");
        Files.delete(ks); // keytool makes the store itself
        String keytool = Bench.jdkTool("keytool");
        List<String> cmd = new ArrayList<>(List.of(keytool, "-genkeypair", "-alias", "bench"));
        cmd.addAll(keyAlg);
        cmd.addAll(List.of("-keystore", ks.toString(), "-storepass", "changeit", "-dname", "CN=bench",
                "-validity", "2"));
        Procs.run(cmd, 60);
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            store.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
        kmf.init(store, "changeit".toCharArray());
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(kmf.getKeyManagers(), null, null);
        SSLServerSocket ss = (SSLServerSocket) c.getServerSocketFactory().createServerSocket(0, 64,
                InetAddress.getLoopbackAddress());
        ss.setEnabledProtocols(new String[] {"TLSv1.3"});
        ss.setEnabledCipherSuites(new String[] {SUITE});
        Thread t = new Thread(() -> Service.acceptLoop(ss), "tls-accept");
        t.setDaemon(true);
        t.start();
        return ss.getLocalPort();
    }

    /** A TLS client session to {@link #listen}; waits for the service banner. */
    static SSLSocket connect(int port) throws Exception {
        SSLSocket s = (SSLSocket) trustAll().getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
        s.setTcpNoDelay(true);
        s.setEnabledProtocols(new String[] {"TLSv1.3"});
        s.setEnabledCipherSuites(new String[] {SUITE});
        s.startHandshake();
        if (s.getInputStream().read() != 'B') {
            throw new IOException("no banner over direct TLS");
        }
        return s;
    }

    static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // gone
        }
    }
}
