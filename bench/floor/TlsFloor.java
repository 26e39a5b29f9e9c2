import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.security.cert.X509Certificate;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The floor of a tunnel start for a Java client using JSSE (section 5): a fresh JVM that makes one
 * TLS 1.3 connection (X25519, AES-128-GCM, no certificate check, nothing else) to the bench's
 * direct TLS server, reads its banner byte, reports it on stdout and exits. The bench compiles it
 * apart from itself, so that the JVM that runs it loads these few classes and no others.
 */
public final class TlsFloor {
    private TlsFloor() {
    }

    public static void main(String[] args) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] chain, String type) {
            }

            public void checkServerTrusted(X509Certificate[] chain, String type) {
            }

            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                Integer.parseInt(args[0]))) {
            SSLParameters p = s.getSSLParameters();
            p.setProtocols(new String[] {"TLSv1.3"});
            p.setCipherSuites(new String[] {"TLS_AES_128_GCM_SHA256"});
            p.setNamedGroups(new String[] {"x25519"});
            s.setSSLParameters(p);
            InputStream in = s.getInputStream();
            if (in.read() != 'B') {
                throw new IOException("no banner");
            }
            System.out.write('B');
            System.out.flush();
        }
    }
}
