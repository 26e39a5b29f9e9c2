package rtunnel.common.v2;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The receiving end of one stream's flow control: how much the peer may have unwritten here, and
 * when to send WINDOW credit. Used under its {@link MuxStream}'s lock.
 *
 * <p>Every stream starts with {@link Mux#WINDOW} (the protocol's 1 MiB). Once its first quarter
 * window has reached the local socket (its reader keeps up), the first credit carries {@link #EXTRA}
 * more, while a budget per process lasts, given back when the stream ends. On loopback 1 MiB is
 * only ~1.5 ms of data, less than a credit's trip back to a sender that shares two cores with busy
 * threads: with 4 MiB one session moves 10-20 % more (make bench probe, three alternating pairs).
 * The budget caps what stalled readers can make a process queue: 1 MiB per stream plus
 * {@link #BUDGET} in all. Any sender takes the extra credit as it takes every WINDOW increment
 * (older ones of ours too); an older receiver simply never grants it.
 */
final class ReceiveWindow {
    static final int EXTRA = 3 << 20;
    static final long BUDGET = 64L << 20;
    private static final AtomicLong LEFT = new AtomicLong(BUDGET);

    /** Written to the socket and not yet returned to the peer as credit. */
    private int uncredited;
    /** Window granted beyond {@link Mux#WINDOW}: 0 or {@link #EXTRA}. */
    private int extra;
    private boolean boostAsked;
    private boolean released;

    /** How many bytes the peer may have sent that the socket has not taken yet. */
    int limit() {
        return Mux.WINDOW + extra;
    }

    /**
     * {@code n} bytes reached the socket; returns the credit to send now, or 0. Credit goes in
     * batches of a quarter of the window (1 MiB once boosted): a WINDOW frame costs a TLS record,
     * a hand-off to the writer and a wake-up of the peer's pump (user to service, make bench probe:
     * 293-305 MB/s with an eighth, 333-345 with a quarter; with the boost, a quarter of 4 MiB
     * rather than of 1 MiB: 758-794 vs 642-775 MB/s down in three alternating pairs). The sender
     * keeps 3/4 of its window in flight. After the peer's FIN nothing more is credited.
     */
    int wrote(int n, boolean remoteFin) {
        uncredited += n;
        if (uncredited < limit() / 4 || remoteFin) {
            return 0;
        }
        int c = uncredited;
        uncredited = 0;
        if (!boostAsked && !released) {
            boostAsked = true;
            if (take()) {
                extra = EXTRA;
                c += extra;
            }
        }
        return c;
    }

    /** The stream ended: its extra window goes back to the budget, and none is taken later. */
    void release() {
        released = true;
        if (extra > 0) {
            give();
            extra = 0;
        }
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
