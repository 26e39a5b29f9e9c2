package rtunnel.common.v2;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Extra receive window for streams that move bulk data, from one budget per process. Every stream
 * starts with {@link Mux#WINDOW} (the protocol's 1 MiB); once a stream's first quarter window has
 * reached its local socket (so its reader keeps up), the receiver grants it {@link #EXTRA} more
 * with that first WINDOW frame, while the budget lasts, and takes it back when the stream ends.
 * On loopback 1 MiB is only ~1.5 ms of data, less than a credit's trip back to a sender that
 * shares two cores with busy threads: with 4 MiB one session moves 10-20 % more (make bench
 * probe, three alternating pairs). The budget caps what stalled readers can make a process queue:
 * 1 MiB per stream plus {@link #BUDGET} in all. Any sender takes the extra credit as it takes
 * every WINDOW increment (older ones of ours too); an older receiver simply never grants it.
 */
final class WindowBoost {
    static final int EXTRA = 3 << 20;
    static final long BUDGET = 64L << 20;
    private static final AtomicLong LEFT = new AtomicLong(BUDGET);

    private WindowBoost() {
    }

    /** Takes {@link #EXTRA} from the budget; false when too little is left. */
    static boolean take() {
        long left;
        do {
            left = LEFT.get();
            if (left < EXTRA) {
                return false;
            }
        } while (!LEFT.compareAndSet(left, left - EXTRA));
        return true;
    }

    /** Gives back what one {@link #take()} took. */
    static void give() {
        LEFT.addAndGet(EXTRA);
    }

    /** What is left of the budget, for tests. */
    static long left() {
        return LEFT.get();
    }
}
