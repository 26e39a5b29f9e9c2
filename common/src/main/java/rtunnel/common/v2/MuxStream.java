package rtunnel.common.v2;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import rtunnel.common.relay.HotThreads;
import rtunnel.common.relay.Relay;

/**
 * One session on a {@link Mux}: a local socket and the stream's two directions.
 *
 * <p>Peer to socket: the peer may have at most {@link Mux#WINDOW} bytes unwritten here (more once
 * its {@link ReceiveWindow} grants it), and gets WINDOW credit back as the socket takes them. Socket to
 * peer: a {@link StreamPump} reads the socket only while it has credit, so a peer that stops
 * reading stops this stream and nothing else.
 * FIN in either direction is a half-close; the stream is done when both directions are, or on
 * RESET.
 *
 * <p>Two ways to run, chosen at {@link #attach}. <b>Direct</b>, for a socket with a channel while
 * {@link HotThreads} has room (a place per stream): the reader writes DATA straight to the
 * non-blocking channel and queues only what it cannot take at once for a drain thread; the link's
 * one pump thread ({@link PumpLoop}) reads the socket. <b>Queued</b> otherwise: blocking streams,
 * a virtual pump, every DATA queued for a virtual drain thread. Either way the reader never
 * blocks on the local socket.
 */
public final class MuxStream {
    /** The largest single write to the local socket (a busy stream's buffer grows up to this). */
    private static final int MAX_BATCH = 256 * 1024;
    private static final byte[] NO_BYTES = new byte[0];

    private final Mux mux;
    private final int id;
    private final OpenInfo info;
    private final StreamPump pump;
    private final long openedAt = System.nanoTime();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
    private final AtomicLong fromPeer = new AtomicLong();
    private final AtomicBoolean finished = new AtomicBoolean();
    private int queued;
    private final ReceiveWindow window = new ReceiveWindow();
    private boolean remoteFin;
    /** Written under the lock; read without it where a wait checks it. */
    private volatile boolean aborted;
    private boolean inboundDone;
    private boolean outboundDone;
    /** Direct mode: a drain thread exists (started at the first backlog or at FIN). */
    private boolean drainStarted;
    /** Direct mode: the drain thread is writing; DATA must queue behind it to keep the order. */
    private boolean draining;
    /** The reader has asked for this stream to be reset; it drops further DATA. */
    private boolean cutting;
    private volatile Socket socket;
    /** Set in direct mode only. */
    private volatile SocketChannel channel;
    private volatile InputStream input;
    private volatile Selector drainSelector;

    MuxStream(Mux mux, int id, OpenInfo info) {
        this.mux = mux;
        this.id = id;
        this.info = info;
        this.pump = new StreamPump(this, mux, id);
    }

    /** Binds the local socket and starts both directions; queued peer data goes out first. */
    public void attach(Socket s) {
        attach(s, NO_BYTES);
    }

    /** As {@link #attach(Socket)}, sending {@code prefix} (bytes already read from the socket) first. */
    public void attach(Socket s, byte[] prefix) {
        SocketChannel ch = s.getChannel();
        boolean direct = ch != null && HotThreads.tryAcquire();
        try {
            if (direct) {
                ch.configureBlocking(false);
            } else {
                input = prefix.length == 0 ? s.getInputStream()
                        : new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(prefix), s.getInputStream());
            }
        } catch (IOException e) {
            if (direct) {
                HotThreads.release();
            }
            abort(true);
            Relay.closeQuietly(s);
            return;
        }
        lock.lock();
        try {
            if (aborted) {
                if (direct) {
                    HotThreads.release();
                }
                Relay.closeQuietly(s);
                return;
            }
            socket = s;
            if (direct) {
                channel = ch;
                if (!inbound.isEmpty() || remoteFin) {
                    startDrain();
                }
            }
        } finally {
            lock.unlock();
        }
        if (direct) {
            pump.startInLoop(ch, prefix, HotThreads::release);
        } else {
            String name = mux.label() + "-s" + id;
            Thread.ofVirtual().name(name + "-out").start(this::drain);
            Thread.ofVirtual().name(name + "-in").start(() -> pump.runStream(input));
        }
    }

    /**
     * Reader thread: DATA from the peer, {@code data[0..len)}. Never blocks. {@code owned}: the
     * array is this stream's to keep; otherwise it is the reader's buffer and is copied if queued.
     */
    void received(byte[] data, int len, boolean owned) {
        boolean cut = false;
        int credit = 0;
        lock.lock();
        try {
            if (aborted || remoteFin || cutting) {
                return;
            }
            if (queued + len > window.limit()) {
                // The peer ignored flow control: this stream cannot be trusted any more.
                cut = cutting = true;
                return;
            }
            int off = 0;
            SocketChannel ch = channel;
            if (ch != null && !draining && inbound.isEmpty()) {
                try {
                    off = ch.write(ByteBuffer.wrap(data, 0, len));
                } catch (IOException e) {
                    cut = cutting = true; // the local socket is gone
                    return;
                }
                credit = wrote(off);
                if (off == len) {
                    return;
                }
            }
            inbound.add(owned && off == 0 && len == data.length ? data : Arrays.copyOfRange(data, off, len));
            queued += len - off;
            if (ch != null && !drainStarted) {
                startDrain();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
            if (cut) {
                Thread.ofVirtual().start(() -> abort(true));
            } else if (credit > 0) {
                mux.sendLater(FrameIO.encode(FrameType.WINDOW, id, ByteBuffer.allocate(4).putInt(credit).array()));
            }
        }
    }

    /** Under the lock: {@code n} bytes reached the socket. Returns the credit to send now, or 0. */
    private int wrote(int n) {
        fromPeer.addAndGet(n);
        return window.wrote(n, remoteFin);
    }

    /** Direct mode, under the lock: the drain thread takes over the backlog and the end. */
    private void startDrain() {
        drainStarted = true;
        HotThreads.startExtra(mux.label() + "-s" + id + "-out", this::drain);
    }

    void credit(int n) {
        pump.credit(n);
    }

    void remoteFin() {
        lock.lock();
        try {
            remoteFin = true;
            if (channel != null && !drainStarted) {
                startDrain(); // it shuts the socket's output once nothing is left to write
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Writes queued peer data to the socket; in direct mode only what the reader could not. */
    private void drain() {
        try {
            OutputStream out = channel == null ? socket.getOutputStream() : null;
            byte[] batch = NO_BYTES;
            while (true) {
                int len = 0;
                lock.lock();
                try {
                    draining = false;
                    while (inbound.isEmpty() && !remoteFin && !aborted) {
                        changed.await();
                    }
                    if (aborted) {
                        return;
                    }
                    if (inbound.isEmpty()) {
                        break;
                    }
                    draining = true;
                    // Everything queued goes out in one write: one wake-up and one system call
                    // for many frames when the link is busy.
                    if (batch.length < Math.min(queued, MAX_BATCH)) {
                        batch = new byte[Math.min(MAX_BATCH, Math.max(queued, 64 * 1024))];
                    }
                    for (byte[] chunk = inbound.peek(); chunk != null && len + chunk.length <= batch.length;
                            chunk = inbound.peek()) {
                        inbound.poll();
                        System.arraycopy(chunk, 0, batch, len, chunk.length);
                        len += chunk.length;
                    }
                    queued -= len;
                } finally {
                    lock.unlock();
                }
                if (out != null) {
                    out.write(batch, 0, len);
                    out.flush();
                } else {
                    writeFully(batch, len);
                }
                int credit;
                lock.lock();
                try {
                    credit = wrote(len);
                } finally {
                    lock.unlock();
                }
                if (credit > 0) {
                    mux.send(FrameType.WINDOW, id, ByteBuffer.allocate(4).putInt(credit).array());
                }
            }
            socket.shutdownOutput();
        } catch (IOException e) {
            abort(true);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort(true);
            return;
        } finally {
            StreamPump.closeSelector(drainSelector);
        }
        directionDone(true);
    }

    /** Direct mode: writes {@code b[0..len)} to the non-blocking channel, waiting for room as needed. */
    private void writeFully(byte[] b, int len) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(b, 0, len);
        SocketChannel ch = channel;
        while (bb.hasRemaining()) {
            if (ch.write(bb) == 0) {
                Selector sel = drainSelector;
                if (sel == null) {
                    sel = Selector.open();
                    ch.register(sel, SelectionKey.OP_WRITE);
                    drainSelector = sel;
                }
                StreamPump.waitFor(sel, () -> aborted);
            }
        }
    }

    /**
     * The link ended. A stream that has already seen the peer's FIN and sent its own only has
     * queued bytes left to write to its socket: it finishes that; any other stream is cut.
     */
    void linkEnded() {
        boolean finishing;
        lock.lock();
        try {
            finishing = remoteFin && outboundDone && !aborted;
        } finally {
            lock.unlock();
        }
        if (!finishing) {
            abort(false);
        }
    }

    /** One direction is over: {@code inboundSide} peer to socket, else socket to peer. */
    void directionDone(boolean inboundSide) {
        boolean both;
        lock.lock();
        try {
            if (inboundSide) {
                inboundDone = true;
            } else {
                outboundDone = true;
            }
            both = inboundDone && outboundDone;
        } finally {
            lock.unlock();
        }
        if (both) {
            finish();
        }
    }

    /** Ends the stream in both directions; with {@code tellPeer}, sends RESET. */
    public void abort(boolean tellPeer) {
        lock.lock();
        try {
            if (aborted) {
                return;
            }
            aborted = true;
            inbound.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        pump.cut();
        StreamPump.wakeUp(drainSelector);
        if (tellPeer && !mux.closed()) {
            mux.sendQuietly(FrameType.RESET, id, new byte[] {0});
        }
        finish();
    }

    private void finish() {
        if (finished.compareAndSet(false, true)) {
            lock.lock();
            try {
                window.release();
            } finally {
                lock.unlock();
            }
            Relay.closeQuietly(socket);
            mux.removed(this);
        }
    }

    public int id() {
        return id;
    }

    public OpenInfo info() {
        return info;
    }

    /** Bytes the peer sent on this stream that were written to the local socket. */
    public long bytesFromPeer() {
        return fromPeer.get();
    }

    /** Bytes read from the local socket and sent to the peer. */
    public long bytesToPeer() {
        return pump.sent();
    }

    public long ageNanos() {
        return System.nanoTime() - openedAt;
    }
}
