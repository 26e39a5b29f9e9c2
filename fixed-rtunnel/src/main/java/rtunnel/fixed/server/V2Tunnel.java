package rtunnel.fixed.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.control.TunnelInfo;
import rtunnel.common.net.IpAddresses;
import rtunnel.common.relay.HotThreads;
import rtunnel.common.relay.Relay;
import rtunnel.common.relay.SocketTuning;
import rtunnel.common.v2.Mux;
import rtunnel.common.v2.MuxStream;
import rtunnel.common.v2.OpenInfo;

/**
 * A v2 tunnel: one port for its whole life, any number of concurrent client sessions, carried as
 * streams over the newest of its links. A rotating or restarted dynamic side attaches a new link;
 * older links take no new sessions and close once their last session ends. The tunnel ends when
 * its last link is gone.
 */
final class V2Tunnel extends Tunnel {
    private static final Logger log = LoggerFactory.getLogger(V2Tunnel.class);
    /** How long a client waits for a link being taken over; the handshake attaches it in milliseconds. */
    private static final Duration TAKEOVER_WAIT = Duration.ofSeconds(2);
    /** How long the platform accept thread waits for the next client before it gives way. */
    private static final int HOT_ACCEPT_MILLIS = 2000;

    private final ServerSocket listener;
    private final AccessPolicy policy;
    private final Instant connectedAt = Instant.now();
    private final List<Link> links = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicInteger sessions = new AtomicInteger();
    private final AtomicLong closedBytesIn = new AtomicLong();
    private final AtomicLong closedBytesOut = new AtomicLong();

    /** A link and the address it came from. */
    record Link(Mux mux, InetAddress remote) {
    }

    /** The address of the newest link; set before the tunnel is listed, so a listing always has one. */
    private volatile InetAddress remote;
    /** Links promised by {@link #reserve()} and not yet attached; guarded by this. */
    private int pendingLinks;

    V2Tunnel(String hostname, ServerSocket listener, AccessPolicy policy, InetAddress remote) {
        super(hostname);
        this.remote = remote;
        this.listener = listener;
        this.policy = policy;
    }

    /**
     * Promises a link to a tunnel that is being taken over, before WELCOME goes out: the dynamic
     * side retires its old link as soon as it reads WELCOME, and the tunnel must not end in the
     * moment between the old link closing and the new one being attached. False if already ended.
     */
    synchronized boolean reserve() {
        if (closed.get()) {
            return false;
        }
        pendingLinks++;
        return true;
    }

    /** The reserved link will not come (its handshake failed). */
    void unreserve() {
        boolean end;
        synchronized (this) {
            pendingLinks--;
            end = pendingLinks == 0 && links.isEmpty();
            notifyAll();
        }
        if (end) {
            close();
        }
    }

    /** Adds a link; it takes every new session from now on, older idle links are closed. */
    void attach(Mux mux, InetAddress remote, boolean reserved) {
        Link fresh = new Link(mux, remote);
        this.remote = remote;
        for (Link old : links) {
            old.mux().closeWhenIdle();
        }
        synchronized (this) {
            links.add(fresh);
            if (reserved) {
                pendingLinks--;
            }
            notifyAll();
        }
        if (closed.get()) {
            mux.close("tunnel closed");
        }
    }

    /** Called from the link's listener when it ends. */
    void linkClosed(Mux mux, String why) {
        boolean end;
        synchronized (this) {
            links.removeIf(l -> l.mux() == mux);
            end = links.isEmpty() && pendingLinks == 0;
        }
        closedBytesIn.addAndGet(mux.bytesIn());
        closedBytesOut.addAndGet(mux.bytesOut());
        log.info("tunnel {}: link {} closed: {}", id, mux.label(), why);
        if (end) {
            close();
        }
    }

    /**
     * Accepts clients until the tunnel ends. After a client, the next ones are accepted on a
     * platform thread from {@link HotThreads} while half its budget is free, until none has come for
     * {@link #HOT_ACCEPT_MILLIS}: the kernel wakes it directly (a virtual thread is woken by the
     * poller, then by a carrier) and it writes OPEN itself (a virtual thread hands its write to the
     * link's platform writer while the link is busy). This thread waits for it meanwhile.
     */
    @Override
    void run() {
        log.info("tunnel {} up: port {} remote {} hostname {} protocol 2", id, port(), remoteText(), hostname);
        try {
            while (!closed.get()) {
                Socket c;
                try {
                    c = listener.accept();
                } catch (IOException e) {
                    break;
                }
                admit(c);
                if (HotThreads.tryAcquireSpare()) {
                    HotThreads.startAcquired("tunnel-" + id + "-accept", this::acceptWhileBusy).join();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close();
            log.info("tunnel {} down: port {} hostname {} bytes in {} out {}", id, port(), hostname,
                    bytesIn(), bytesOut());
        }
    }

    /** On a platform thread: accepts clients until none has come for a while or the listener fails. */
    private void acceptWhileBusy() {
        try {
            listener.setSoTimeout(HOT_ACCEPT_MILLIS);
            while (!closed.get()) {
                admit(listener.accept());
            }
        } catch (IOException e) {
            // A quiet spell (SocketTimeoutException) or a closed listener: the tunnel's thread goes on.
        } finally {
            try {
                listener.setSoTimeout(0);
            } catch (IOException e) {
                // Closed: the tunnel's thread ends.
            }
        }
    }

    private void admit(Socket c) {
        InetAddress from = c.getInetAddress();
        if (!policy.admitClient(from)) {
            log.warn("tunnel {}: client {} refused: not on the client allowlist (--addip-client)", id,
                    IpAddresses.format(from));
            Relay.closeQuietly(c);
            return;
        }
        SocketTuning.tune(c);
        if (policy.sshOnly()) {
            // The check waits for the client's first bytes: never on the accept thread.
            Thread.ofVirtual().name("tunnel-" + id + "-ssh-check").start(() -> {
                try {
                    byte[] prefix = SshGate.check(c);
                    if (prefix == null) {
                        log.warn("tunnel {}: client {} refused: not an ssh client (--ssh-only)", id, IpAddresses.format(from));
                        Relay.closeQuietly(c);
                        return;
                    }
                    open(c, prefix);
                } catch (IOException e) {
                    Relay.closeQuietly(c);
                }
            });
            return;
        }
        open(c, new byte[0]);
    }

    private void open(Socket c, byte[] prefix) {
        InetAddress from = c.getInetAddress();
        long deadline = System.nanoTime() + TAKEOVER_WAIT.toNanos();
        // A link may be retired between picking it and opening on it: then the next newest one.
        for (int attempt = 0; attempt < 3; attempt++) {
            Link link = newestLink();
            if (link == null) {
                link = awaitPendingLink(deadline);
            }
            if (link == null) {
                break;
            }
            try {
                MuxStream s = link.mux().open(c, new OpenInfo((InetSocketAddress) c.getRemoteSocketAddress(),
                        (InetSocketAddress) c.getLocalSocketAddress()), prefix);
                sessions.incrementAndGet();
                log.info("tunnel {}: session {} from {}:{} started", id, s.id(), IpAddresses.format(from), c.getPort());
                return;
            } catch (IOException e) {
                log.debug("tunnel {}: link {} refused a session: {}", id, link.mux().label(), e.getMessage());
            }
        }
        log.warn("tunnel {}: no link to carry a session for {}", id, IpAddresses.format(from));
        Relay.closeQuietly(c);
    }

    /**
     * The link a takeover has promised, once attached: the dynamic side retires its old link as
     * soon as it reads WELCOME, a moment before the new one is attached here, and a client that
     * comes in that moment waits for it rather than being turned away. Null if none is promised
     * or it did not come by {@code deadline}.
     */
    private Link awaitPendingLink(long deadline) {
        synchronized (this) {
            while (pendingLinks > 0 && !closed.get()) {
                Link l = newestLink();
                if (l != null) {
                    return l;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }
        return newestLink();
    }

    /** For audit: a session's end, called by the link's listener. */
    void sessionClosed(MuxStream s) {
        sessions.decrementAndGet();
        InetSocketAddress from = s.info().client();
        log.info("tunnel {}: session {} from {}:{} ended: {} bytes from client, {} bytes to client, {} ms", id,
                s.id(), IpAddresses.format(from.getAddress()), from.getPort(), s.bytesToPeer(), s.bytesFromPeer(),
                s.ageNanos() / 1_000_000);
    }

    private Link newestLink() {
        for (int i = links.size() - 1; i >= 0; i--) {
            Link l = links.get(i);
            if (!l.mux().closed() && !l.mux().draining()) {
                return l;
            }
        }
        return null;
    }

    @Override
    void close() {
        if (closed.compareAndSet(false, true)) {
            Relay.closeQuietly(listener);
            for (Link l : links) {
                l.mux().close("tunnel closed");
            }
        }
    }

    boolean isClosed() {
        return closed.get();
    }

    @Override
    int protocol() {
        return 2;
    }

    @Override
    int port() {
        return listener.getLocalPort();
    }

    private String remoteText() {
        return IpAddresses.format(remote);
    }

    private long bytesIn() {
        return closedBytesIn.get() + links.stream().mapToLong(l -> l.mux().bytesIn()).sum();
    }

    private long bytesOut() {
        return closedBytesOut.get() + links.stream().mapToLong(l -> l.mux().bytesOut()).sum();
    }

    /** Milliseconds since the newest link last heard its peer. */
    long lastHeardMillis() {
        Link l = newestLink();
        return l == null ? -1 : l.mux().silenceNanos() / 1_000_000;
    }

    @Override
    TunnelInfo info() {
        return new TunnelInfo(id, port(), remote, hostname, connectedAt, 2, sessions.get(), bytesIn(), bytesOut(),
                lastHeardMillis());
    }
}
