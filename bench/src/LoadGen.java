import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * Opens many idle protocol-v1 tunnels to fixed_rtunnel and holds them: clear TUNNEL01 exchange,
 * TLS without SNI trusting anything, then 8 password bytes + 8 hostname bytes (NUL padded).
 * Tunnel i comes from 127.1.(i / 200).(i % 200 + 1), so no address has more than a few
 * handshakes pending (the server allows 16 per address).
 */
final class LoadGen {
    private final int serverPort;
    private final byte[] password;
    private final SSLSocketFactory tls;
    private final List<SSLSocket> held = new ArrayList<>();

    LoadGen(int serverPort, String hexPassword) throws Exception {
        this.serverPort = serverPort;
        this.password = HexFormat.of().parseHex(hexPassword);
        this.tls = Tls.trustAll().getSocketFactory();
    }

    static String hostname(int i) {
        return String.format("g%07d", i);
    }

    int size() {
        return held.size();
    }

    /** Opens tunnels until {@code total} are held, with {@code parallel} handshakes at a time. */
    void growTo(int total, int parallel) throws Exception {
        int from = held.size();
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            List<Future<SSLSocket>> fs = new ArrayList<>();
            for (int i = from; i < total; i++) {
                int n = i;
                fs.add(pool.submit(() -> openWithRetry(n)));
            }
            for (Future<SSLSocket> f : fs) {
                held.add(f.get());
            }
        } finally {
            pool.shutdown();
        }
    }

    private SSLSocket openWithRetry(int i) throws Exception {
        Exception last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                return open(i);
            } catch (IOException e) {
                last = e;
                Service.sleepMs(200L * (attempt + 1));
            }
        }
        throw new IOException("tunnel " + i + " could not be opened: " + last, last);
    }

    private SSLSocket open(int i) throws IOException {
        Socket s = new Socket();
        try {
            s.bind(new InetSocketAddress(InetAddress.getByAddress(
                    new byte[] {127, 1, (byte) (i / 200), (byte) (i % 200 + 1)}), 0));
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), serverPort), 10_000);
            s.setSoTimeout(15_000);
            s.getOutputStream().write("TUNNEL01".getBytes(StandardCharsets.US_ASCII));
            byte[] answer = s.getInputStream().readNBytes(8);
            if (!"TUNNEL01".equals(new String(answer, StandardCharsets.US_ASCII))) {
                throw new IOException("server answered " + answer.length + " bytes instead of TUNNEL01");
            }
            // "127.0.0.1" is an IP literal: JSSE sends no SNI for it, as the original client.
            SSLSocket t = (SSLSocket) tls.createSocket(s, "127.0.0.1", serverPort, true);
            t.startHandshake();
            byte[] block = new byte[16];
            System.arraycopy(password, 0, block, 0, 8);
            byte[] name = hostname(i).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(name, 0, block, 8, Math.min(8, name.length));
            t.getOutputStream().write(block);
            t.getOutputStream().flush();
            return t;
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    /** After a client connected to tunnel i's port: true when the server sent START (00000002) on it. */
    boolean sawStart(int i, int timeoutMs) throws IOException {
        SSLSocket t = held.get(i);
        t.setSoTimeout(timeoutMs);
        InputStream in = t.getInputStream();
        while (true) {
            byte[] msg = in.readNBytes(8);
            String m = new String(msg, StandardCharsets.US_ASCII);
            if (m.equals("00000002")) {
                return true;
            }
            if (!m.equals("00000001")) { // a keepalive may come first
                return false;
            }
        }
    }

    void closeAll() {
        for (SSLSocket s : held) {
            Tls.closeQuietly(s);
        }
        held.clear();
    }
}
