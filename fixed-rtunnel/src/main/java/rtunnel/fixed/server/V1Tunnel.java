package rtunnel.fixed.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLSocket;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.control.TunnelInfo;
import rtunnel.common.net.IpAddresses;
import rtunnel.common.protocol.V1;
import rtunnel.common.relay.HotThreads;
import rtunnel.common.relay.LinkSocket;
import rtunnel.common.relay.Relay;
import rtunnel.common.relay.SocketTuning;

/**
 * One v1 tunnel: a fresh client port, keepalives while nobody comes, then one client session
 * relayed through the TLS link. When either end closes, the tunnel ends (SPEC A3 step 9).
 *
 * <p>Threads: the tunnel's own thread accepts on the client port, sends keepalives and START;
 * a second virtual thread reads the peer from the start, so a link that closes while waiting ends
 * the tunnel at once. Once a session runs, each direction's copy moves to a platform thread
 * ({@link HotThreads}, while the budget allows; a virtual thread's wake-up costs a second hand-off)
 * and the virtual thread that started it waits for it. Only the client-to-peer copy writes to the
 * TLS socket after START.
 */
final class V1Tunnel extends Tunnel {
    private static final Logger log = LoggerFactory.getLogger(V1Tunnel.class);

    private final SSLSocket tls;
    private final Socket raw;
    private final InetAddress remote;
    private final Instant connectedAt = Instant.now();
    private final AccessPolicy policy;
    private final Duration keepaliveInterval;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Bytes that came in over the link from the dynamic side, and went out to it. */
    private final AtomicLong bytesIn = new AtomicLong();
    private final AtomicLong bytesOut = new AtomicLong();
    private volatile ServerSocket listener;
    private volatile Socket client;

    V1Tunnel(Socket raw, SSLSocket tls, String hostname, AccessPolicy policy, Duration keepaliveInterval) {
        super(hostname);
        this.raw = raw;
        this.tls = tls;
        this.remote = raw.getInetAddress();
        this.policy = policy;
        this.keepaliveInterval = keepaliveInterval;
    }

    /** Takes the client port; the caller lists the tunnel only once it has one. */
    void bind(ServerSocket port) {
        listener = port;
    }

    /** Serves the tunnel until it ends; returns when every socket of it is closed. */
    @Override
    void run() {
        log.info("tunnel {} up: port {} remote {} hostname {} protocol 1", id, port(), IpAddresses.format(remote), hostname);
        Thread reader = Thread.ofVirtual().name("tunnel-" + id + "-in").start(this::readFromPeer);
        try {
            Socket c = awaitClient();
            if (c != null) {
                serveSession(c);
            }
        } finally {
            close();
            try {
                reader.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            log.info("tunnel {} down: port {} remote {} hostname {} bytes in {} out {}", id, port(),
                    IpAddresses.format(remote), hostname, bytesIn.get(), bytesOut.get());
        }
    }

    /** Accepts on the client port until an allowed client comes; keepalives on each idle interval. */
    private Socket awaitClient() {
        long nextKeepalive = System.nanoTime() + keepaliveInterval.toNanos();
        while (!closed.get()) {
            Socket s;
            try {
                long waitMillis = Math.max(1, (nextKeepalive - System.nanoTime()) / 1_000_000);
                listener.setSoTimeout((int) Math.min(Integer.MAX_VALUE, waitMillis));
                s = listener.accept();
            } catch (SocketTimeoutException e) {
                if (!send(V1.KEEPALIVE)) {
                    return null;
                }
                nextKeepalive = System.nanoTime() + keepaliveInterval.toNanos();
                continue;
            } catch (IOException e) {
                return null;
            }
            InetAddress from = s.getInetAddress();
            if (!policy.admitClient(from)) {
                log.warn("tunnel {}: client {} refused: not on the client allowlist (--addip-client)", id,
                        IpAddresses.format(from));
                Relay.closeQuietly(s);
                continue;
            }
            SocketTuning.tune(s);
            byte[] prefix = new byte[0];
            if (policy.sshOnly()) {
                try {
                    prefix = SshGate.check(s);
                } catch (IOException e) {
                    prefix = null;
                }
                if (prefix == null) {
                    log.warn("tunnel {}: client {} refused: not an ssh client (--ssh-only)", id, IpAddresses.format(from));
                    Relay.closeQuietly(s);
                    continue;
                }
            }
            client = s;
            Relay.closeQuietly(listener);
            if (!send(V1.START) || prefix.length > 0 && !send(prefix)) {
                return null;
            }
            bytesOut.addAndGet(prefix.length);
            return s;
        }
        return null;
    }

    private void serveSession(Socket c) {
        long started = System.nanoTime();
        String from = IpAddresses.format(c.getInetAddress()) + ":" + c.getPort();
        log.info("tunnel {}: session from {} started", id, from);
        onHotThread("-to-peer", () -> {
            try {
                Relay.pump(c.getInputStream(), tls.getOutputStream(), bytesOut, new byte[Relay.BUFFER_SIZE], link());
            } catch (IOException e) {
                log.debug("tunnel {}: client to peer ended: {}", id, e.toString());
            }
        });
        close();
        log.info("tunnel {}: session from {} ended: {} bytes from client, {} bytes to client, {} ms", id, from,
                bytesOut.get(), bytesIn.get(), (System.nanoTime() - started) / 1_000_000);
    }

    /** Reads the peer for the whole life of the link; before a session, anything but EOF is a fault. */
    private void readFromPeer() {
        // A waiting tunnel holds only a small buffer: idle tunnels are the common case.
        byte[] first = new byte[V1.MESSAGE_LENGTH];
        try {
            InputStream in = tls.getInputStream();
            int n = in.read(first);
            if (n < 0) {
                return;
            }
            byte[] buffer = new byte[Relay.BUFFER_SIZE];
            System.arraycopy(first, 0, buffer, 0, n);
            Socket c = client;
            if (c == null) {
                log.warn("tunnel {}: peer sent data before a session started; closing", id);
                return;
            }
            OutputStream out = c.getOutputStream();
            out.write(buffer, 0, n);
            bytesIn.addAndGet(n);
            onHotThread("-to-client", () -> {
                try {
                    LinkSocket link = link();
                    if (link != null) {
                        link.busy(true); // a session: read the link through a buffer (this is its reader)
                        Relay.pumpFromLink(in, out, bytesIn, buffer, link);
                    } else {
                        Relay.pump(in, out, bytesIn, buffer);
                    }
                } catch (IOException e) {
                    log.debug("tunnel {}: peer to client ended: {}", id, e.toString());
                }
            });
        } catch (IOException e) {
            log.debug("tunnel {}: peer to client ended: {}", id, e.toString());
        } finally {
            close();
        }
    }

    /** Runs {@code copy} on a platform thread if the budget allows (else here) and waits for it. */
    private void onHotThread(String suffix, Runnable copy) {
        if (!HotThreads.tryAcquire()) {
            copy.run();
            return;
        }
        HotThreads.Job t = HotThreads.startAcquired("tunnel-" + id + suffix, copy);
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close(); // the copy ends with the sockets
        }
    }

    /** The TCP socket beneath TLS as a LinkSocket (the TLS port's listener makes them), or null. */
    private LinkSocket link() {
        return raw instanceof LinkSocket l ? l : null;
    }

    private boolean send(byte[] message) {
        try {
            OutputStream out = tls.getOutputStream();
            out.write(message);
            out.flush();
            return true;
        } catch (IOException e) {
            log.debug("tunnel {}: write to peer failed: {}", id, e.toString());
            close();
            return false;
        }
    }

    /** Ends the tunnel from any thread; closes the TCP socket beneath TLS so no close can block. */
    @Override
    void close() {
        if (closed.compareAndSet(false, true)) {
            Relay.closeQuietly(listener);
            Relay.closeQuietly(client);
            Relay.closeQuietly(raw);
        }
    }

    @Override
    int protocol() {
        return 1;
    }

    @Override
    int port() {
        ServerSocket s = listener;
        return s == null ? 0 : s.getLocalPort();
    }

    @Override
    TunnelInfo info() {
        Socket c = client;
        int sessions = c != null && !closed.get() ? 1 : 0;
        return new TunnelInfo(id, port(), remote, hostname, connectedAt, 1, sessions, bytesIn.get(), bytesOut.get(), -1);
    }
}
