package rtunnel.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny TCP service in the test process, standing in for sshd where a real one would only be
 * slow: on each connection it sends {@code banner}, then echoes every byte back until the peer
 * half-closes, then closes. It counts connections, so a test can tell whether a client reached it.
 */
public final class EchoService implements AutoCloseable {

    private final ServerSocket listener;
    private final byte[] banner;
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger finished = new AtomicInteger();
    private final List<InetAddress> peers = new CopyOnWriteArrayList<>();
    private final Queue<Socket> open = new ConcurrentLinkedQueue<>();

    private EchoService(ServerSocket listener, byte[] banner) {
        this.listener = listener;
        this.banner = banner.clone();
    }

    /** Listens on {@code bind} and a free port. */
    public static EchoService start(InetAddress bind, byte[] banner) throws IOException {
        EchoService s = new EchoService(new ServerSocket(0, 50, bind), banner);
        Thread.ofVirtual().name("echo-accept").start(s::acceptLoop);
        return s;
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Connections accepted so far. */
    public int connections() {
        return accepted.get();
    }

    /** Connections that have ended (peer closed or failed). */
    public int finished() {
        return finished.get();
    }

    /** The peer address of every connection, in order. */
    public List<InetAddress> peers() {
        return List.copyOf(peers);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                accepted.incrementAndGet();
                peers.add(s.getInetAddress());
                open.add(s);
                Thread.ofVirtual().name("echo-conn").start(() -> serve(s));
            } catch (IOException e) {
                // Closed by close(), or a failed accept: go round (the loop ends when closed).
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            OutputStream out = s.getOutputStream();
            out.write(banner);
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
                out.flush();
            }
            s.shutdownOutput();
        } catch (IOException e) {
            // The tunnel dropped the connection: that ends this session, nothing more.
        } finally {
            open.remove(s);
            finished.incrementAndGet();
        }
    }

    /** Waits until at least {@code n} connections were accepted. */
    public void awaitConnections(int n, Duration timeout) {
        Procs.waitFor(timeout, () -> accepted.get() >= n, n + " connection(s) to the echo service");
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException e) {
                // Best effort.
            }
        }
    }

    /** A TCP connection from {@code source} (any port) to {@code target:port}, with a read timeout. */
    public static Socket connectFrom(InetAddress source, InetAddress target, int port, Duration readTimeout)
            throws IOException {
        Socket s = new Socket();
        try {
            s.bind(new InetSocketAddress(source, 0));
            s.connect(new InetSocketAddress(target, port), 5000);
            s.setSoTimeout((int) readTimeout.toMillis());
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return s;
    }
}
