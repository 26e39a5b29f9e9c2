package rtunnel.common.v2;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One session on a {@link Mux}: a local socket and the stream's two directions.
 *
 * <p>Peer to socket: the reader thread queues DATA here (at most {@link Mux#WINDOW} bytes, which
 * the peer may not exceed) and a drain thread writes it to the socket, returning WINDOW credit as
 * the socket takes it. Socket to peer: a pump thread reads the socket only while it has credit,
 * so a peer that stops reading stops this stream and nothing else. FIN in either direction is a
 * half-close; the stream is done when both directions are, or on RESET.
 */
public final class MuxStream {
    private static final int CREDIT_BATCH = Mux.WINDOW / 8;
    private static final int PUMP_FRAMES = 4;
    /** The largest single write to the local socket (a busy stream's buffer grows up to this). */
    private static final int MAX_BATCH = 256 * 1024;
    private static final byte[] NO_BYTES = new byte[0];

    private final Mux mux;
    private final int id;
    private final OpenInfo info;
    private final long openedAt = System.nanoTime();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
    private final AtomicLong fromPeer = new AtomicLong();
    private final AtomicLong toPeer = new AtomicLong();
    private final AtomicBoolean finished = new AtomicBoolean();
    private int queued;
    private long sendCredit = Mux.WINDOW;
    private boolean remoteFin;
    private boolean aborted;
    private boolean inboundDone;
    private boolean outboundDone;
    private volatile Socket socket;
    private volatile InputStream input;

    MuxStream(Mux mux, int id, OpenInfo info) {
        this.mux = mux;
        this.id = id;
        this.info = info;
    }

    /** Binds the local socket and starts both directions; queued peer data goes out first. */
    public void attach(Socket s) {
        attach(s, new byte[0]);
    }

    /** As {@link #attach(Socket)}, sending {@code prefix} (bytes already read from the socket) first. */
    public void attach(Socket s, byte[] prefix) {
        try {
            input = prefix.length == 0 ? s.getInputStream()
                    : new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(prefix), s.getInputStream());
        } catch (IOException e) {
            abort(true);
            closeSocket(s);
            return;
        }
        lock.lock();
        try {
            if (aborted) {
                closeSocket(s);
                return;
            }
            socket = s;
        } finally {
            lock.unlock();
        }
        Thread.ofVirtual().name(mux.label() + "-s" + id + "-out").start(this::drain);
        Thread.ofVirtual().name(mux.label() + "-s" + id + "-in").start(this::pump);
    }

    /** Reader thread: DATA from the peer. Never blocks. */
    void received(byte[] data) {
        lock.lock();
        try {
            if (aborted || remoteFin) {
                return;
            }
            if (queued + data.length > Mux.WINDOW) {
                // The peer ignored flow control: this stream cannot be trusted any more.
                Thread.ofVirtual().start(() -> abort(true));
                return;
            }
            inbound.add(data);
            queued += data.length;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void credit(int n) {
        lock.lock();
        try {
            sendCredit += Math.max(0, n);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void remoteFin() {
        lock.lock();
        try {
            remoteFin = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void drain() {
        int uncredited = 0;
        try {
            OutputStream out = socket.getOutputStream();
            byte[] batch = new byte[0];
            while (true) {
                int len = 0;
                lock.lock();
                try {
                    while (inbound.isEmpty() && !remoteFin && !aborted) {
                        changed.await();
                    }
                    if (aborted) {
                        return;
                    }
                    if (inbound.isEmpty()) {
                        break;
                    }
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
                out.write(batch, 0, len);
                out.flush();
                fromPeer.addAndGet(len);
                uncredited += len;
                // Credit in batches: a WINDOW frame per small write would double the frames of an
                // interactive session. The sender still never stalls: it has the whole window.
                if (uncredited >= CREDIT_BATCH && expectsMore()) {
                    mux.send(FrameType.WINDOW, id, ByteBuffer.allocate(4).putInt(uncredited).array());
                    uncredited = 0;
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
        }
        directionDone(true);
    }

    /** False once the peer sent FIN: no more data will come, so no credit is owed. */
    private boolean expectsMore() {
        lock.lock();
        try {
            return !remoteFin;
        } finally {
            lock.unlock();
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

    private void pump() {
        // Reads up to PUMP_FRAMES frames' worth at a time and sends them as one write under the
        // link's lock: fewer wake-ups and system calls per byte than a frame at a time.
        byte[] in0 = new byte[PUMP_FRAMES * FrameIO.MAX_PAYLOAD];
        byte[] frames = new byte[PUMP_FRAMES * (FrameIO.HEADER + FrameIO.MAX_PAYLOAD)];
        try {
            InputStream in = input;
            while (true) {
                int allowed;
                lock.lock();
                try {
                    while (sendCredit <= 0 && !aborted) {
                        changed.await();
                    }
                    if (aborted) {
                        return;
                    }
                    allowed = (int) Math.min(in0.length, sendCredit);
                } finally {
                    lock.unlock();
                }
                int n = in.read(in0, 0, allowed);
                if (n < 0) {
                    mux.send(FrameType.FIN, id, NO_BYTES);
                    break;
                }
                if (n == 0) {
                    continue;
                }
                lock.lock();
                try {
                    sendCredit -= n;
                } finally {
                    lock.unlock();
                }
                int out = 0;
                for (int off = 0; off < n; off += FrameIO.MAX_PAYLOAD) {
                    int len = Math.min(FrameIO.MAX_PAYLOAD, n - off);
                    FrameIO.header(frames, out, FrameType.DATA, 0, id, len);
                    System.arraycopy(in0, off, frames, out + FrameIO.HEADER, len);
                    out += FrameIO.HEADER + len;
                }
                mux.sendRaw(frames, 0, out);
                toPeer.addAndGet(n);
                mux.countOut(n);
            }
        } catch (IOException e) {
            abort(true);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort(true);
            return;
        }
        directionDone(false);
    }

    private void directionDone(boolean inboundSide) {
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
        if (tellPeer && !mux.closed()) {
            mux.sendQuietly(FrameType.RESET, id, new byte[] {0});
        }
        finish();
    }

    private void finish() {
        if (finished.compareAndSet(false, true)) {
            closeSocket(socket);
            mux.removed(this);
        }
    }

    private static void closeSocket(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // Already gone.
            }
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
        return toPeer.get();
    }

    public long ageNanos() {
        return System.nanoTime() - openedAt;
    }
}
