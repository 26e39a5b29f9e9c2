package rtunnel.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local service that can be stopped and started again on the same port (the "sshd went down
 * and came back" case; {@link EchoService} always takes a fresh port): sends {@code banner}, then
 * echoes until the peer half-closes. Counts connections accepted and ended.
 */
public final class RelEcho implements AutoCloseable {

    private final ServerSocket listener;
    private final byte[] banner;
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger finished = new AtomicInteger();
    private final Queue<Socket> open = new ConcurrentLinkedQueue<>();

    private RelEcho(ServerSocket listener, byte[] banner) {
        this.listener = listener;
        this.banner = banner.clone();
    }

    /** Listens on {@code bind:port} ({@code port} 0: a free one). */
    public static RelEcho start(InetAddress bind, int port, byte[] banner) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        try {
            s.bind(new InetSocketAddress(bind, port), 100);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        RelEcho r = new RelEcho(s, banner);
        Thread.ofVirtual().name("relecho-accept").start(r::acceptLoop);
        return r;
    }

    public int port() {
        return listener.getLocalPort();
    }

    public int connections() {
        return accepted.get();
    }

    public int finished() {
        return finished.get();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                accepted.incrementAndGet();
                open.add(s);
                Thread.ofVirtual().name("relecho-conn").start(() -> serve(s));
            } catch (IOException e) {
                // Closed by close(): the loop ends.
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
            // The tunnel dropped the connection: that ends the session.
        } finally {
            open.remove(s);
            finished.incrementAndGet();
        }
    }

    /** Stops listening and drops every connection: the service is down. */
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
}
