import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * A userspace TCP relay on loopback: the "one relay hop" baseline, a link whose connections the
 * bench can cut ({@link #killAll}), and with a one-way delay a slow link (each chunk is held for
 * the delay in each direction, bandwidth unlimited).
 */
final class Relay {
    private final ServerSocket ss;
    private final int targetPort;
    private final long delayNanos;
    private final Set<Socket> live = ConcurrentHashMap.newKeySet();

    Relay(int targetPort, long oneWayDelayMs) throws IOException {
        this(0, targetPort, oneWayDelayMs);
    }

    /** A relay listening on {@code listenPort} (0: any free port). */
    Relay(int listenPort, int targetPort, long oneWayDelayMs) throws IOException {
        this.ss = new ServerSocket(listenPort, 512, InetAddress.getLoopbackAddress());
        this.targetPort = targetPort;
        this.delayNanos = oneWayDelayMs * 1_000_000L;
        Thread t = new Thread(this::acceptLoop, "relay-accept");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return ss.getLocalPort();
    }

    /** Cuts every relayed connection (both sides); the relay keeps accepting new ones. */
    void killAll() {
        for (Socket s : live) {
            try {
                s.setSoLinger(true, 0); // RST: the link dies as a dropped route would look to a keepalive
                s.close();
            } catch (IOException e) {
                // already gone
            }
        }
        live.clear();
    }

    void close() throws IOException {
        ss.close();
        killAll();
    }

    private void acceptLoop() {
        while (true) {
            try {
                Socket a = ss.accept();
                Thread t = new Thread(() -> open(a), "relay-open");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void open(Socket a) {
        try {
            if (delayNanos > 0) {
                sleepNanos(delayNanos); // the SYN crosses the link
            }
            Socket b = new Socket();
            b.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
            a.setTcpNoDelay(true);
            b.setTcpNoDelay(true);
            live.add(a);
            live.add(b);
            start(a, b);
            start(b, a);
        } catch (IOException e) {
            try {
                a.close();
            } catch (IOException ignored) {
                // nothing more to do
            }
        }
    }

    private void start(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            try {
                if (delayNanos == 0) {
                    copy(from, to);
                } else {
                    delayedCopy(from, to);
                }
            } catch (IOException e) {
                closeBoth(from, to);
            }
        }, "relay-copy");
        t.setDaemon(true);
        t.start();
    }

    private void copy(Socket from, Socket to) throws IOException {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        byte[] b = new byte[64 * 1024];
        int k;
        while ((k = in.read(b)) >= 0) {
            out.write(b, 0, k);
        }
        halfClose(from, to);
    }

    private record Chunk(long due, byte[] bytes) {
    }

    private void delayedCopy(Socket from, Socket to) throws IOException {
        LinkedBlockingQueue<Chunk> q = new LinkedBlockingQueue<>();
        Thread writer = new Thread(() -> {
            try {
                OutputStream out = to.getOutputStream();
                while (true) {
                    Chunk c = q.take();
                    long wait = c.due - System.nanoTime();
                    if (wait > 0) {
                        sleepNanos(wait);
                    }
                    if (c.bytes == null) {
                        halfClose(from, to);
                        return;
                    }
                    out.write(c.bytes);
                }
            } catch (IOException | InterruptedException e) {
                closeBoth(from, to);
            }
        }, "relay-delay-out");
        writer.setDaemon(true);
        writer.start();
        InputStream in = from.getInputStream();
        byte[] b = new byte[64 * 1024];
        int k;
        try {
            while ((k = in.read(b)) >= 0) {
                q.add(new Chunk(System.nanoTime() + delayNanos, Arrays.copyOf(b, k)));
            }
        } finally {
            q.add(new Chunk(System.nanoTime() + delayNanos, null));
        }
    }

    private void halfClose(Socket from, Socket to) {
        try {
            to.shutdownOutput();
            if (from.isOutputShutdown()) {
                closeBoth(from, to);
            }
        } catch (IOException e) {
            closeBoth(from, to);
        }
    }

    private void closeBoth(Socket a, Socket b) {
        for (Socket s : new Socket[] {a, b}) {
            live.remove(s);
            try {
                s.close();
            } catch (IOException e) {
                // gone
            }
        }
    }

    private static void sleepNanos(long n) {
        long end = System.nanoTime() + n;
        long left;
        while ((left = end - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }
}
