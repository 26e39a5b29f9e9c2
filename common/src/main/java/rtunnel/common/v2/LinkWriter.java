package rtunnel.common.v2;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import rtunnel.common.relay.LinkSocket;

/**
 * The write side of one v2 link: every frame goes out whole, under one lock, and is flushed.
 * A failed write ends the link (through {@code onFailure}). Frames the link's reader owes the peer
 * (PONG, WINDOW) are queued and written by a short-lived virtual thread, so the reader never
 * waits for the lock or for room in the link, while the peer's reader may be waiting for it.
 * Several frames written at once (a pump's batch) leave in one TCP write when the link is a
 * {@link LinkSocket}, instead of one write per TLS record.
 *
 * <p>While the link's socket {@linkplain LinkSocket#readsBlock blocks}, a virtual thread never
 * writes to it (a blocking write would hold its carrier in the kernel until the peer reads, one
 * of two carriers on a two-core machine): its write goes to the link's platform thread ({@code …-write}, started when needed, gone
 * after two idle seconds), and it waits for that. Whether the socket blocks changes only under the
 * lock ({@link #tryLocked}), so a writer checks it once it holds the lock.
 */
final class LinkWriter {
    /** Work done while holding the link's lock. */
    interface Locked<T> {
        T run() throws IOException;
    }

    private final OutputStream out;
    private final LinkSocket link;
    private final String label;
    private final Consumer<String> onFailure;
    private final ReentrantLock lock = new ReentrantLock();
    private final ConcurrentLinkedQueue<Pending> waiting = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<byte[]> later = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean laterRunning = new AtomicBoolean();
    private final LinkedBlockingQueue<Runnable> handed = new LinkedBlockingQueue<>();
    private final AtomicBoolean platformRunning = new AtomicBoolean();
    /** This side's half of the link is closed ({@link #shutOutput}); guarded by {@link #lock}. */
    private boolean shut;

    LinkWriter(OutputStream out, Socket raw, String label, Consumer<String> onFailure) {
        this.out = out;
        this.link = raw instanceof LinkSocket ls ? ls : null;
        this.label = label;
        this.onFailure = onFailure;
    }

    /**
     * Writes {@code buf[off..off+len)} (whole frames) and flushes; a failure ends the link. Writers
     * that arrive while the lock is taken queue their frames, and whoever takes the lock next sends
     * every queued write with its own, in one TCP write where the link allows (a group commit:
     * 64 streams' pumps then cost a few system calls, not one per frame). Each caller returns once
     * its own frames are out; frames of one stream keep their order, as one thread writes them.
     */
    void write(byte[] buf, int off, int len) throws IOException {
        Pending mine = new Pending(buf, off, len);
        waiting.add(mine);
        if (!sendUntilSent(mine)) {
            onPlatform(() -> sendUntilSent(mine));
        }
        if (mine.failed != null) {
            throw mine.failed;
        }
    }

    /** Sends queued writes until {@code mine} is out; false, {@code mine} still queued, if this thread may not write. */
    private boolean sendUntilSent(Pending mine) {
        lock.lock();
        try {
            while (!mine.done) {
                if (mayNotWrite()) {
                    return false;
                }
                sendWaiting();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: a virtual thread while the socket blocks. */
    private boolean mayNotWrite() {
        return link != null && link.readsBlock() && Thread.currentThread().isVirtual();
    }

    /**
     * Runs {@code work} on the link's platform thread and waits for it, uninterrupted: a caller
     * may reuse its buffer only once its frames are out.
     */
    private <T> T onPlatform(Locked<T> work) throws IOException {
        FutureTask<T> task = new FutureTask<>(work::run);
        hand(task);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    if (e.getCause() instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void hand(Runnable r) {
        handed.add(r);
        if (platformRunning.compareAndSet(false, true)) {
            Thread.ofPlatform().daemon().name(label + "-write").start(this::runHanded);
        }
    }

    private void runHanded() {
        do {
            try {
                for (Runnable r; (r = handed.poll(2, TimeUnit.SECONDS)) != null; ) {
                    r.run();
                }
            } catch (InterruptedException e) {
                // ends the thread; whatever is queued starts another below
            }
            platformRunning.set(false);
        } while (!handed.isEmpty() && platformRunning.compareAndSet(false, true));
    }

    /** Under the lock: every queued write, oldest first. */
    private void sendWaiting() {
        List<Pending> batch = new ArrayList<>();
        for (Pending p; (p = waiting.poll()) != null; ) {
            batch.add(p);
        }
        if (shut) {
            // Nothing may follow this side's end of the link; the frame is dropped, the link lives on.
            IOException after = afterEnd();
            for (Pending p : batch) {
                p.failed = after;
                p.done = true;
            }
            return;
        }
        boolean hold = link != null && (batch.size() > 1 || batch.get(0).len > FrameIO.HEADER + FrameIO.MAX_PAYLOAD);
        IOException failed = null;
        try {
            if (hold) {
                link.holdFlushes();
            }
            try {
                for (Pending p : batch) {
                    out.write(p.buf, p.off, p.len);
                }
            } finally {
                if (hold) {
                    link.sendHeld();
                }
            }
            out.flush();
        } catch (IOException e) {
            onFailure.accept("write failed: " + e.getMessage());
            failed = e;
        }
        for (Pending p : batch) {
            p.failed = failed;
            p.done = true;
        }
    }

    /** A write waiting for the lock; its buffer stays untouched until its caller returns. */
    private static final class Pending {
        final byte[] buf;
        final int off;
        final int len;
        boolean done;
        IOException failed;

        Pending(byte[] buf, int off, int len) {
            this.buf = buf;
            this.off = off;
            this.len = len;
        }
    }

    /**
     * Flushes and half-closes this side of the link (TCP FIN): the peer reads every frame sent
     * so far, then the end. Frames written afterwards (a PONG, a late GOAWAY) fail their own
     * write but do not end the link, which is the peer's to close now: writing them would reset
     * the connection and throw away the peer's unread frames.
     */
    void shutOutput(Socket raw) throws IOException {
        locked(() -> {
            if (!shut) {
                shut = true;
                out.flush();
                raw.shutdownOutput();
            }
            return null;
        });
    }

    private IOException afterEnd() {
        return new IOException("link " + label + " takes no more frames: its output is closed");
    }

    /** As {@link #write} for a caller that holds the lock (inside {@link #locked}). */
    void writeLocked(byte[] buf, int off, int len) throws IOException {
        if (shut) {
            throw afterEnd();
        }
        try {
            out.write(buf, off, len);
            out.flush();
        } catch (IOException e) {
            onFailure.accept("write failed: " + e.getMessage());
            throw e;
        }
    }

    /**
     * Writes {@code frame} only if the lock comes free within {@code millis}; false if it did not.
     * After {@link #shutOutput} the frame is dropped.
     */
    boolean tryWrite(byte[] frame, long millis) throws IOException, InterruptedException {
        if (!lock.tryLock(millis, TimeUnit.MILLISECONDS)) {
            return false;
        }
        try {
            if (!mayNotWrite()) {
                if (!shut) {
                    out.write(frame);
                    out.flush();
                }
                return true;
            }
        } finally {
            lock.unlock();
        }
        return onPlatform(() -> {
            try {
                return tryWrite(frame, millis);
            } catch (InterruptedException e) {
                return false;
            }
        });
    }

    /** Runs {@code work} holding the lock: nothing is written between its steps. */
    <T> T locked(Locked<T> work) throws IOException {
        lock.lock();
        try {
            if (!mayNotWrite()) {
                return work.run();
            }
        } finally {
            lock.unlock();
        }
        return onPlatform(() -> locked(work));
    }

    /** Runs {@code work} holding the lock if it is free now, without waiting; false if it was not. */
    boolean tryLocked(Locked<?> work) throws IOException {
        if (!lock.tryLock()) {
            return false;
        }
        try {
            work.run();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Reader thread: {@code frame} goes out from another thread, in order with the others queued here. */
    void writeLater(byte[] frame) {
        later.add(frame);
        if (laterRunning.compareAndSet(false, true)) {
            if (link != null && link.readsBlock()) {
                hand(this::flushLater); // its writes would go there anyway
            } else {
                Thread.ofVirtual().name(label + "-later").start(this::flushLater);
            }
        }
    }

    private void flushLater() {
        do {
            byte[] f;
            while ((f = later.poll()) != null) {
                try {
                    write(f, 0, f.length);
                } catch (IOException e) {
                    later.clear(); // the link is closing
                }
            }
            laterRunning.set(false);
        } while (!later.isEmpty() && laterRunning.compareAndSet(false, true));
    }
}
