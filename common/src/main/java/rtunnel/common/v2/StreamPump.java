package rtunnel.common.v2;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * One {@link MuxStream}'s socket-to-peer direction: reads the local socket only while the peer's
 * window has room and sends what it read as DATA frames, then FIN at the socket's end. Runs on
 * the stream's {@code -in} thread, over a blocking stream (queued mode) or a non-blocking channel
 * waiting in its own selector (direct mode). A cut stream stops it, wherever it waits.
 */
final class StreamPump {
    /** Up to this many frames' worth per read, sent as one write under the link's lock. */
    private static final int FRAMES = 4;
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
    private volatile Selector selector;

    StreamPump(MuxStream stream, Mux mux, int id) {
        this.stream = stream;
        this.mux = mux;
        this.id = id;
    }

    /** WINDOW from the peer: a pump out of credit waits here, not in its selector. */
    void credit(int n) {
        lock.lock();
        try {
            credit += Math.max(0, n);
            credited.signalAll();
        } finally {
            lock.unlock();
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
        wakeUp(selector);
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

    /** Direct mode: reads the non-blocking channel while there is credit, waiting in a selector. */
    void runChannel(SocketChannel ch, byte[] prefix) {
        byte[] in0 = new byte[FRAMES * FrameIO.MAX_PAYLOAD];
        byte[] frames = new byte[FRAMES * (FrameIO.HEADER + FrameIO.MAX_PAYLOAD)];
        Selector sel = null;
        try {
            sel = Selector.open();
            ch.register(sel, SelectionKey.OP_READ);
            selector = sel;
            // Bytes the gate already read (a few, far below the first window) go first.
            for (int off = 0; off < prefix.length; off += in0.length) {
                int n = Math.min(in0.length, prefix.length - off);
                System.arraycopy(prefix, off, in0, 0, n);
                sendData(in0, n, frames);
            }
            boolean drained = false;
            while (true) {
                int allowed = awaitCredit(in0.length);
                if (allowed < 0) {
                    return;
                }
                if (drained) {
                    // The last read took less than it asked for: the socket's queue was empty
                    // then, so wait for more before asking (an echo's keystroke costs no read
                    // that finds nothing).
                    waitFor(sel, this::isCut);
                }
                int n = ch.read(ByteBuffer.wrap(in0, 0, allowed));
                if (n < 0) {
                    break;
                }
                drained = n < allowed;
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
        } finally {
            closeSelector(sel);
        }
        stream.directionDone(false);
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

    private boolean isCut() {
        lock.lock();
        try {
            return cut;
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
