package rtunnel.common.v2;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import rtunnel.common.relay.HotThreads;

/**
 * The socket-to-peer direction of every direct-mode stream of one link, on one platform thread
 * ({@code …-pumps}): it waits in one selector for any of the streams' sockets, reads each one
 * that has bytes and credit, and sends them as DATA frames ({@link StreamPump#readable}).
 *
 * <p>One thread, not one per stream: with many busy streams, a pump per stream meant that many
 * threads taking turns at the link's write lock, a futex wait and a wake-up for nearly every
 * write. Here the link's writes come from one thread, one stream's batch after another, each
 * readable stream once per round. A stream whose last read filled what it asked for is read again
 * in the next round without asking the selector first (a busy download costs no extra system
 * call); the selector is asked only while some registered stream is not known to be busy.
 *
 * <p>Other threads never touch the selector's keys: they queue the pump ({@link #changed}) and
 * wake the selector; the loop then registers it, re-arms it after credit came back, or drops it
 * once cut. The thread is started with the first stream and ends after {@link #IDLE_MILLIS}
 * without any.
 */
final class PumpLoop {
    /** The thread ends after this long without streams; the next stream starts another. */
    static final long IDLE_MILLIS = 2_000;
    /** A waiting selector looks at its queue at least this often, even without being woken. */
    private static final long SELECT_MILLIS = 1_000;

    private final String name;
    private final ConcurrentLinkedQueue<StreamPump> changes = new ConcurrentLinkedQueue<>();
    /** The loop's selector while its thread runs; guarded by this. */
    private Selector selector;
    private boolean running;

    PumpLoop(String label) {
        this.name = label + "-pumps";
    }

    /**
     * Something changed for {@code p} (new, credit after a stall, cut): the loop looks at it next.
     * Starts the loop's thread if none runs.
     */
    void changed(StreamPump p) {
        changes.add(p);
        synchronized (this) {
            if (running) {
                selector.wakeup();
                return;
            }
            try {
                selector = Selector.open();
            } catch (IOException e) {
                // Without a selector no stream of this link can be pumped: those waiting are cut.
                cutWaiting();
                return;
            }
            running = true;
            Selector sel = selector;
            try {
                HotThreads.startExtra(name, () -> run(sel));
            } catch (RuntimeException | OutOfMemoryError e) {
                // No thread (the machine's limit): the streams waiting for one are cut.
                stopped(sel);
                cutWaiting();
            }
        }
    }

    private void run(Selector sel) {
        byte[] in = new byte[StreamPump.FRAMES * FrameIO.MAX_PAYLOAD];
        byte[] frames = new byte[StreamPump.FRAMES * (FrameIO.HEADER + FrameIO.MAX_PAYLOAD)];
        List<StreamPump> busy = new ArrayList<>();
        List<StreamPump> ready = new ArrayList<>();
        long idleSince = System.nanoTime();
        try {
            while (true) {
                applyChanges(sel);
                int streams = sel.keys().size();
                if (streams == 0 && busy.isEmpty()) {
                    if (System.nanoTime() - idleSince >= IDLE_MILLIS * 1_000_000 && stopIfIdle(sel)) {
                        return;
                    }
                    sel.select(IDLE_MILLIS);
                    continue;
                }
                idleSince = System.nanoTime();
                ready.clear();
                ready.addAll(busy);
                busy.clear();
                if (ready.isEmpty()) {
                    sel.select(k -> ready.add((StreamPump) k.attachment()), SELECT_MILLIS);
                } else if (ready.size() < streams) {
                    sel.selectNow(k -> {
                        StreamPump p = (StreamPump) k.attachment();
                        if (!p.busy) {
                            ready.add(p);
                        }
                    });
                }
                for (StreamPump p : ready) {
                    p.busy = p.readable(in, frames);
                    if (p.busy) {
                        busy.add(p);
                    }
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            // The selector itself failed: nothing can be pumped here any more.
            for (SelectionKey k : keysOf(sel)) {
                ((StreamPump) k.attachment()).failed();
            }
            synchronized (this) {
                stopped(sel);
            }
            cutWaiting();
            if (e instanceof RuntimeException re) {
                throw re;
            }
            if (e instanceof Error err) {
                throw err;
            }
        }
    }

    private void applyChanges(Selector sel) {
        for (StreamPump p; (p = changes.poll()) != null; ) {
            p.apply(sel);
        }
    }

    /** True if the loop may end: nothing registered and nothing queued, checked under the lock. */
    private boolean stopIfIdle(Selector sel) {
        synchronized (this) {
            if (!changes.isEmpty() || !sel.keys().isEmpty()) {
                return false;
            }
            stopped(sel);
            return true;
        }
    }

    /** Under the lock: the loop's thread is gone (or never came) and its selector is closed. */
    private void stopped(Selector sel) {
        running = false;
        selector = null;
        StreamPump.closeSelector(sel);
    }

    /** Cuts every stream still waiting for the loop to look at it. */
    private void cutWaiting() {
        for (StreamPump p; (p = changes.poll()) != null; ) {
            p.failed();
        }
    }

    private static List<SelectionKey> keysOf(Selector sel) {
        try {
            return new ArrayList<>(sel.keys());
        } catch (RuntimeException e) {
            return List.of(); // closed already
        }
    }
}
