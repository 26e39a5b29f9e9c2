package rtunnel.common.v2;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * One {@link MuxStream}'s socket-to-peer direction: reads the local socket only while the peer's
 * window has room and sends what it read as DATA frames, then FIN at the socket's end. Queued
 * mode: the stream's own virtual {@code -in} thread reads a blocking stream. Direct mode: the
 * link's {@link PumpLoop} reads the non-blocking channel when its selector finds it readable, and
 * stops asking while the stream has no credit. A cut stream stops it, wherever it waits.
 */
final class StreamPump {
    /** Up to this many frames' worth per read, sent as one write under the link's lock. */
    static final int FRAMES = 4;
    /** How often a waiting selector looks at the stream's state even without being woken. */
    private static final long SELECT_MILLIS = 1000;
    private static final byte[] NO_BYTES = new byte[0];

    private final MuxStream stream;
    private final Mux mux;
    private final int id;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition credited = lock.newCondition();
    private final AtomicLong sent = new AtomicLong();
    private long credit = Mux.WINDOW;
    private boolean cut;
    /** Direct mode: guarded by {@link #lock}, a stall for want of credit the loop must hear of. */
    private boolean starved;
    private final AtomicBoolean ended = new AtomicBoolean();
    private final PumpLoop loop;
    /** Direct mode: set before the loop first sees this pump. */
    private volatile SocketChannel channel;
    private volatile Runnable onEnd;
    /** Loop thread only. */
    private SelectionKey key;
    /** Loop thread only: the last read filled what it asked for. */
    boolean busy;

    StreamPump(MuxStream stream, Mux mux, int id) {
        this.stream = stream;
        this.mux = mux;
        this.id = id;
        this.loop = mux.pumps;
    }

    /** WINDOW from the peer: wakes a queued pump waiting for credit, or has the loop read a direct stream again that had none. */
    void credit(int n) {
        boolean rearm;
        lock.lock();
        try {
            credit += Math.max(0, n);
            credited.signalAll();
            rearm = starved && credit > 0;
            if (rearm) {
                starved = false;
            }
        } finally {
            lock.unlock();
        }
        if (rearm) {
            loop.changed(this);
        }
    }

    /** The stream was cut: the pump stops at its next wait. */
    void cut() {
        lock.lock();
        try {
            cut = true;
            credited.signalAll();
        } finally {
            lock.unlock();
        }
        if (channel != null) {
            loop.changed(this);
        }
    }

    /** Bytes read from the local socket and sent to the peer. */
    long sent() {
        return sent.get();
    }

    /** Queued mode: reads the socket's stream while there is credit. */
    void runStream(InputStream in) {
        byte[] in0 = new byte[FRAMES * FrameIO.MAX_PAYLOAD];
        byte[] frames = new byte[FRAMES * (FrameIO.HEADER + FrameIO.MAX_PAYLOAD)];
        try {
            while (true) {
                int allowed = awaitCredit(in0.length);
                if (allowed < 0) {
                    return;
                }
                int n = in.read(in0, 0, allowed);
                if (n < 0) {
                    break;
                }
                sendData(in0, n, frames);
            }
            mux.send(FrameType.FIN, id, NO_BYTES);
        } catch (IOException e) {
            stream.abort(true);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stream.abort(true);
            return;
        }
        stream.directionDone(false);
    }

    /**
     * Direct mode: sends {@code prefix} (bytes the gate already read, a few, far below the first
     * window) and hands the non-blocking channel to the link's {@link PumpLoop}. {@code onEnd}
     * runs once when this direction ends, however it ends.
     */
    void startInLoop(SocketChannel ch, byte[] prefix, Runnable onEnd) {
        channel = ch;
        this.onEnd = onEnd;
        try {
            byte[] frames = new byte[FRAMES * (FrameIO.HEADER + FrameIO.MAX_PAYLOAD)];
            for (int off = 0; off < prefix.length; off += FRAMES * FrameIO.MAX_PAYLOAD) {
                int n = Math.min(FRAMES * FrameIO.MAX_PAYLOAD, prefix.length - off);
                sendData(Arrays.copyOfRange(prefix, off, off + n), n, frames);
            }
        } catch (IOException e) {
            failed();
            return;
        }
        loop.changed(this);
    }

    /** Loop thread: registers the channel, re-arms it after a stall, or drops it once cut. */
    void apply(Selector sel) {
        if (ended.get()) {
            return; // a late re-arm of a direction that has ended: nothing to do
        }
        boolean isCut;
        boolean hasCredit;
        lock.lock();
        try {
            isCut = cut;
            hasCredit = credit > 0;
        } finally {
            lock.unlock();
        }
        if (isCut) {
            drop();
        } else if (key == null) {
            try {
                key = channel.register(sel, SelectionKey.OP_READ, this);
            } catch (IOException | CancelledKeyException e) {
                failed();
            }
        } else if (hasCredit) {
            interest(SelectionKey.OP_READ);
        }
    }

    /**
     * Loop thread: the socket is readable (or was busy at the last read). Reads what the credit
     * allows and sends it; true if the read filled what it asked for, so more is likely waiting.
     */
    boolean readable(byte[] in, byte[] frames) {
        int allowed;
        lock.lock();
        try {
            if (cut) {
                allowed = -1;
            } else if (credit <= 0) {
                starved = true; // credit() re-arms the key
                allowed = 0;
            } else {
                allowed = (int) Math.min(in.length, credit);
            }
        } finally {
            lock.unlock();
        }
        if (allowed <= 0) {
            if (allowed < 0) {
                drop();
            } else {
                interest(0);
            }
            return false;
        }
        try {
            int n = channel.read(ByteBuffer.wrap(in, 0, allowed));
            if (n < 0) {
                drop();
                mux.send(FrameType.FIN, id, NO_BYTES);
                stream.directionDone(false);
                return false;
            }
            sendData(in, n, frames);
            return n == allowed;
        } catch (IOException e) {
            failed();
            return false;
        }
    }

    /** The loop cannot carry this stream (a failed read or write, no selector): the stream is cut. */
    void failed() {
        drop();
        stream.abort(true);
    }

    /** This direction has ended: off the selector, and {@code onEnd} has run. */
    private void drop() {
        if (key != null) {
            key.cancel();
        }
        if (ended.compareAndSet(false, true) && onEnd != null) {
            onEnd.run();
        }
    }

    private void interest(int ops) {
        try {
            key.interestOps(ops);
        } catch (CancelledKeyException e) {
            failed(); // the socket was closed under the loop
        }
    }

    /** Waits for send credit; returns how much of {@code max} may be read now, or -1 once cut. */
    private int awaitCredit(int max) throws InterruptedException {
        lock.lock();
        try {
            while (credit <= 0 && !cut) {
                credited.await();
            }
            return cut ? -1 : (int) Math.min(max, credit);
        } finally {
            lock.unlock();
        }
    }

    /** Sends {@code data[0..n)} as DATA frames built in {@code frames}, in one write under the link's lock. */
    private void sendData(byte[] data, int n, byte[] frames) throws IOException {
        if (n == 0) {
            return;
        }
        lock.lock();
        try {
            credit -= n;
        } finally {
            lock.unlock();
        }
        int out = 0;
        for (int off = 0; off < n; off += FrameIO.MAX_PAYLOAD) {
            int len = Math.min(FrameIO.MAX_PAYLOAD, n - off);
            FrameIO.header(frames, out, FrameType.DATA, 0, id, len);
            System.arraycopy(data, off, frames, out + FrameIO.HEADER, len);
            out += FrameIO.HEADER + len;
        }
        mux.sendRaw(frames, 0, out);
        sent.addAndGet(n);
        mux.countOut(n);
    }

    /** Waits in {@code sel}; throws once {@code cutNow}, so no thread waits on a dead socket. */
    static void waitFor(Selector sel, BooleanSupplier cutNow) throws IOException {
        if (cutNow.getAsBoolean()) {
            throw new IOException("stream reset");
        }
        sel.select(key -> { }, SELECT_MILLIS); // one key, nothing to dispatch: no selected-key set
        if (cutNow.getAsBoolean()) {
            throw new IOException("stream reset");
        }
    }

    static void wakeUp(Selector s) {
        if (s != null) {
            s.wakeup();
        }
    }

    static void closeSelector(Selector s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // Nothing left to release.
            }
        }
    }
}
