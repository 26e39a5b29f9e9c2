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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay standing for the network between dynamic_rtunnel and fixed_rtunnel, able to turn
 * into a black hole: {@link #blackHole()} makes every connection it carries stop forwarding in
 * both directions without closing anything (bytes are read and dropped, as a dead route or a NAT
 * box that forgot the flow would), and connections made during the outage go nowhere either.
 * {@link #heal()} lets new connections through again; a connection that was black-holed stays
 * dead, as it would after a NAT box lost its state, so only a re-dial recovers.
 */
public final class RelRelay implements AutoCloseable {

    private static final int BUFFER = 64 * 1024;
    private static final int CONNECT_TIMEOUT_MS = 5000;

    private final ServerSocket listener;
    private final InetAddress sourceToTarget;
    private final InetSocketAddress target;
    private final AtomicBoolean down = new AtomicBoolean();
    private final AtomicInteger accepted = new AtomicInteger();
    private final Queue<Flow> flows = new ConcurrentLinkedQueue<>();

    private RelRelay(ServerSocket listener, InetAddress sourceToTarget, InetSocketAddress target) {
        this.listener = listener;
        this.sourceToTarget = sourceToTarget;
        this.target = target;
    }

    /** Listens on {@code bind} and a free port; dials {@code target} from {@code sourceToTarget}. */
    public static RelRelay start(InetAddress bind, InetAddress sourceToTarget, InetSocketAddress target)
            throws IOException {
        RelRelay r = new RelRelay(new ServerSocket(0, 50, bind), sourceToTarget, target);
        Thread.ofVirtual().name("relay-accept").start(r::acceptLoop);
        return r;
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Connections accepted so far. */
    public int accepted() {
        return accepted.get();
    }

    /** From now on nothing is forwarded, on old connections or new ones; nothing is closed. */
    public void blackHole() {
        down.set(true);
        flows.forEach(f -> f.dead.set(true));
    }

    /** New connections are forwarded again (black-holed ones stay dead). */
    public void heal() {
        down.set(false);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket a = listener.accept();
                accepted.incrementAndGet();
                Flow f = new Flow(a);
                flows.add(f);
                Thread.ofVirtual().name("relay-flow").start(f::run);
            } catch (IOException e) {
                // Closed by close(); the loop ends.
            }
        }
    }

    /** One relayed connection: the accepted socket and the one dialed to the target. */
    private final class Flow {
        final Socket a;
        final Socket b = new Socket();
        final AtomicBoolean dead = new AtomicBoolean(down.get());

        Flow(Socket a) {
            this.a = a;
        }

        void run() {
            if (dead.get()) {
                // Made during an outage: swallow what comes, answer nothing, close nothing.
                pump(a, null);
                return;
            }
            try {
                b.bind(new InetSocketAddress(sourceToTarget, 0));
                b.connect(target, CONNECT_TIMEOUT_MS);
            } catch (IOException e) {
                closeBoth();
                return;
            }
            Thread.ofVirtual().name("relay-b2a").start(() -> pump(b, a));
            pump(a, b);
        }

        /** Copies {@code from} to {@code to} (null: nowhere) until EOF; drops the bytes while dead. */
        void pump(Socket from, Socket to) {
            byte[] buf = new byte[BUFFER];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to == null ? null : to.getOutputStream();
                for (int n; (n = in.read(buf)) >= 0; ) {
                    if (!dead.get() && out != null) {
                        out.write(buf, 0, n);
                        out.flush();
                    }
                }
                if (!dead.get() && to != null) {
                    to.shutdownOutput();
                    return;
                }
            } catch (IOException e) {
                // Fall through: a failure that is not a black hole ends both sides, as TCP would.
            }
            if (!dead.get()) {
                closeBoth();
            }
        }

        void closeBoth() {
            closeQuietly(a);
            closeQuietly(b);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // Best effort.
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Flow f : flows) {
            f.closeBoth();
        }
    }
}
