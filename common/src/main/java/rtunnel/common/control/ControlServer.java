package rtunnel.common.control;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicBoolean;

import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.cli.RtunnelException;
import rtunnel.common.cli.Unix;

/**
 * The server end of the control socket. Only root and the server's own user may use it: the
 * socket file is mode 0600 and every connection's peer uid is checked as well. Each connection
 * gets a virtual thread; a bad or slow peer only ever costs its own connection.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    private static final int READ_TIMEOUT_MS = 30_000;
    private static final int MAX_REQUESTS = 1000;
    private static final int MAX_CONNECTIONS = 256;
    /** Connections the kernel queues for the accept thread (a flood of 40 at once filled 16: RelHostileInputIT). */
    private static final int BACKLOG = 128;
    private final java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(MAX_CONNECTIONS);
    /** How long and how much a refused peer may still send before the close; see refuse(). */
    private static final int LINGER_MS = 2_000;
    private static final long LINGER_BYTES = 64 * 1024;

    private final Path path;
    private final AFUNIXServerSocket server;
    private final ControlHandler handler;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ControlServer(Path path, AFUNIXServerSocket server, ControlHandler handler) {
        this.path = path;
        this.server = server;
        this.handler = handler;
    }

    /** Binds the socket (replacing a stale one left by a crash) and starts accepting. */
    public static ControlServer start(Path path, ControlHandler handler) throws RtunnelException {
        clearStale(path);
        AFUNIXServerSocket s;
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
            s = AFUNIXServerSocket.newInstance();
            // Room for a burst: a client whose connect finds the queue full gets EAGAIN at once
            // when its socket is non-blocking (any virtual thread's is), not a wait.
            s.bind(AFUNIXSocketAddress.of(path), BACKLOG);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw RtunnelException.failure("cannot create control socket " + path + ": " + e.getMessage()
                    + " (see --socketname)", e);
        }
        ControlServer cs = new ControlServer(path, s, handler);
        Thread.ofPlatform().name("control-accept").daemon(true).start(cs::acceptLoop);
        return cs;
    }

    private static void clearStale(Path path) throws RtunnelException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!isSocket(path)) {
            throw RtunnelException.failure("control socket path " + path + " exists and is not a socket; "
                    + "remove it or choose another with --socketname");
        }
        try (AFUNIXSocket probe = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(path))) {
            throw RtunnelException.failure("control socket " + path + " is in use: is another fixed_rtunnel "
                    + "running? Stop it or choose another --socketname");
        } catch (IOException notListening) {
            try {
                Files.deleteIfExists(path);
                log.info("removed stale control socket {}", path);
            } catch (IOException e) {
                throw RtunnelException.failure("cannot remove stale control socket " + path + ": " + e.getMessage(), e);
            }
        }
    }

    private static boolean isSocket(Path path) {
        try {
            return Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS).isOther();
        } catch (IOException e) {
            return false;
        }
    }

    private void acceptLoop() {
        while (!closed.get()) {
            try {
                AFUNIXSocket c = server.accept();
                if (!slots.tryAcquire()) {
                    log.warn("control socket: {} connections already open; one more closed", MAX_CONNECTIONS);
                    closeQuietly(c);
                    continue;
                }
                // A platform thread each, not a virtual one: junixsocket's blocking reads would pin
                // the few carrier threads, and a handful of idle control connections could then
                // stall every virtual thread of the server (handshakes, links, sessions).
                Thread.ofPlatform().daemon(true).name("control").start(() -> {
                    try {
                        serve(c);
                    } finally {
                        slots.release();
                    }
                });
            } catch (IOException e) {
                if (!closed.get()) {
                    log.warn("control socket accept failed: {}", e.getMessage());
                    sleepBriefly();
                }
            }
        }
    }

    private void serve(AFUNIXSocket c) {
        try (c) {
            c.setSoTimeout(READ_TIMEOUT_MS);
            InputStream in = c.getInputStream();
            OutputStream out = new BufferedOutputStream(c.getOutputStream());
            long uid = c.getPeerCredentials().getUid();
            long ownUid = Unix.uid(); // read each time: the server may have dropped root since it started
            if (uid != 0 && uid != ownUid) {
                log.warn("control socket: refused a connection from uid {}", uid);
                refuse(c, in, out, "permission denied: only root and uid " + ownUid + " may use this control socket");
                return;
            }
            for (int i = 0; i < MAX_REQUESTS; i++) {
                String line;
                try {
                    line = ControlWire.readLine(in);
                } catch (ControlWire.BadLineException e) {
                    log.warn("control socket: {}; connection closed", e.getMessage());
                    refuse(c, in, out, e.getMessage());
                    return;
                }
                if (line == null) {
                    return;
                }
                ControlReply reply;
                try {
                    reply = handler.handle(ControlWire.decode(line));
                } catch (IllegalArgumentException e) {
                    reply = ControlReply.error(e.getMessage());
                } catch (RuntimeException e) {
                    log.error("control request failed", e);
                    reply = ControlReply.error("internal error: " + e);
                }
                write(out, reply);
                out.flush();
            }
        } catch (SocketTimeoutException e) {
            log.debug("control connection idle too long; closed");
        } catch (IOException e) {
            log.info("control connection dropped: {}", e.getMessage());
        }
    }

    /**
     * Sends a last error line, half-closes, and reads (a bounded amount, for a bounded time) what
     * the peer had already sent: closing with unread bytes would reset the connection, and the
     * peer would see "broken pipe" or "connection reset" instead of the reason.
     */
    private static void refuse(AFUNIXSocket c, InputStream in, OutputStream out, String message) throws IOException {
        ControlWire.writeLine(out, "error " + message);
        out.flush();
        try {
            c.shutdownOutput();
        } catch (IOException e) {
            // junixsocket 2.10 reports accepted sockets as "not connected" here; the peer then sees
            // end of stream at our close instead, which the bounded drain below keeps short.
        }
        c.setSoTimeout(LINGER_MS);
        byte[] sink = new byte[4096];
        try {
            for (long left = LINGER_BYTES; left > 0; ) {
                int n = in.read(sink);
                if (n < 0) {
                    return;
                }
                left -= n;
            }
        } catch (IOException e) {
            // Timed out or reset: closing anyway.
        }
    }

    private static void write(OutputStream out, ControlReply reply) throws IOException {
        if (!reply.ok()) {
            ControlWire.writeLine(out, "error " + String.join(" ", reply.lines()));
            return;
        }
        ControlWire.writeLine(out, "ok " + reply.lines().size());
        for (String l : reply.lines()) {
            ControlWire.writeLine(out, l);
        }
    }

    private static void closeQuietly(AFUNIXSocket c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                server.close();
            } catch (IOException e) {
                // Closing anyway.
            }
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                log.warn("cannot remove control socket {}: {}", path, e.getMessage());
            }
        }
    }
}
