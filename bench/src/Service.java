import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The service behind every tunnel, and the client side of its protocol. On accept the service
 * sends one banner byte at once (like sshd's identification line), then reads a command:
 * 'D' + u64 n: it sends n bytes; 'U' + u64 n: it reads n bytes and answers 'K'; 'E': echo until EOF.
 */
final class Service {
    static final int BUF = 64 * 1024;
    private static final byte[] DATA = new byte[BUF];
    static {
        ThreadLocalRandom.current().nextBytes(DATA); // incompressible, in case anything compresses
    }

    /** Listens on loopback port 0 and serves each connection on its own platform thread. */
    static int listen() throws IOException {
        ServerSocket ss = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> acceptLoop(ss), "service-accept");
        t.setDaemon(true);
        t.start();
        return ss.getLocalPort();
    }

    static void acceptLoop(ServerSocket ss) {
        while (true) {
            try {
                Socket s = ss.accept();
                Thread t = new Thread(() -> serve(s), "service");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    static void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            out.write('B');
            out.flush();
            int cmd = in.read();
            if (cmd == 'D') {
                long n = new DataInputStream(in).readLong();
                while (n > 0) {
                    int k = (int) Math.min(BUF, n);
                    out.write(DATA, 0, k);
                    n -= k;
                }
                out.flush();
                drain(in);
            } else if (cmd == 'U') {
                long n = new DataInputStream(in).readLong();
                byte[] b = new byte[BUF];
                while (n > 0) {
                    int k = in.read(b, 0, (int) Math.min(BUF, n));
                    if (k < 0) {
                        return;
                    }
                    n -= k;
                }
                out.write('K');
                out.flush();
                drain(in);
            } else if (cmd == 'E') {
                byte[] b = new byte[BUF];
                int k;
                while ((k = in.read(b)) > 0) {
                    out.write(b, 0, k);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // the client went away: routine
        }
    }

    private static void drain(InputStream in) throws IOException {
        byte[] b = new byte[1024];
        while (in.read(b) >= 0) {
            // until the client closes
        }
    }

    // ---- client side ----

    /** Connects and waits for the banner; retries (connection refused, reset, no banner) until the deadline. */
    static Socket connectBanner(String host, int port, long deadlineNanos, int bannerTimeoutMs) throws IOException {
        IOException last = null;
        while (System.nanoTime() < deadlineNanos) {
            Socket s = new Socket();
            try {
                s.setTcpNoDelay(true);
                s.connect(new InetSocketAddress(host, port), 1000);
                s.setSoTimeout(bannerTimeoutMs);
                int b = s.getInputStream().read();
                if (b == 'B') {
                    s.setSoTimeout(0);
                    return s;
                }
                last = new IOException("no banner from port " + port + " (got " + b + ")");
            } catch (SocketTimeoutException e) {
                last = e;
            } catch (IOException e) {
                last = e;
                sleepMs(5);
            }
            s.close();
        }
        throw new IOException("port " + port + " did not give a session in time: " + last, last);
    }

    static Socket connectBanner(int port, long timeoutMs) throws IOException {
        return connectBanner("127.0.0.1", port, System.nanoTime() + timeoutMs * 1_000_000L, 5000);
    }

    /** Reads n bytes from the service on an open session; returns seconds. */
    static double download(Socket s, long n) throws IOException {
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        InputStream in = s.getInputStream();
        byte[] b = new byte[BUF];
        long t0 = System.nanoTime();
        out.writeByte('D');
        out.writeLong(n);
        out.flush();
        long left = n;
        while (left > 0) {
            int k = in.read(b, 0, (int) Math.min(BUF, left));
            if (k < 0) {
                throw new IOException("EOF with " + left + " bytes to go");
            }
            left -= k;
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Sends n bytes to the service and waits for its acknowledgement; returns seconds. */
    static double upload(Socket s, long n) throws IOException {
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        OutputStream raw = s.getOutputStream();
        long t0 = System.nanoTime();
        out.writeByte('U');
        out.writeLong(n);
        out.flush();
        long left = n;
        while (left > 0) {
            int k = (int) Math.min(BUF, left);
            raw.write(DATA, 0, k);
            left -= k;
        }
        raw.flush();
        if (s.getInputStream().read() != 'K') {
            throw new IOException("no acknowledgement after upload");
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Sends count single bytes, each after the echo of the previous one; returns the round trips in ns. */
    static long[] echo(Socket s, int count) throws IOException {
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        out.write('E');
        out.flush();
        long[] rtt = new long[count];
        for (int i = 0; i < count; i++) {
            long t0 = System.nanoTime();
            out.write('x');
            out.flush();
            if (in.read() < 0) {
                throw new IOException("EOF during echo");
            }
            rtt[i] = System.nanoTime() - t0;
        }
        return rtt;
    }

    static void sleepMs(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
