package rtunnel.common.relay;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Platform threads for the busy part of the data path, within a budget.
 *
 * <p>A platform thread blocked in a socket read is woken by the kernel directly. A virtual thread
 * is woken by the JDK's poller thread, which then hands it to a carrier thread: two wake-ups
 * instead of one, and on a virtual machine each wake-up of an idle CPU costs tens of
 * microseconds (measured on the 2-core bench machine: one relay hop added 13 µs to a 1-byte round
 * trip with platform threads, 145 µs with virtual threads). So the threads that carry a live
 * session's bytes are platform threads, up to {@link #LIMIT} at a time; everything else (idle
 * tunnels, handshakes, timers) and anything beyond the budget stays virtual, which keeps an idle
 * tunnel at a few kilobytes.
 */
public final class HotThreads {
    /** At most this many platform threads carry data at once ({@code -Drtunnel.hotThreads=N}). */
    public static final int LIMIT = Integer.getInteger("rtunnel.hotThreads", 256);
    /** Relay code is shallow; a small stack keeps each thread's reservation small. */
    private static final long STACK_BYTES = 512 * 1024;
    private static final AtomicInteger inUse = new AtomicInteger();

    private HotThreads() {
    }

    /** Takes one place in the budget; false when it is used up. */
    public static boolean tryAcquire() {
        while (true) {
            int n = inUse.get();
            if (n >= LIMIT) {
                return false;
            }
            if (inUse.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    public static void release() {
        inUse.decrementAndGet();
    }

    /** Platform threads in use now. */
    public static int inUse() {
        return inUse.get();
    }

    /** Starts {@code body} on a platform thread holding a place already taken with {@link #tryAcquire()}. */
    public static Thread startAcquired(String name, Runnable body) {
        try {
            return Thread.ofPlatform().daemon(true).stackSize(STACK_BYTES).name(name).start(() -> {
                try {
                    body.run();
                } finally {
                    release();
                }
            });
        } catch (RuntimeException | Error e) {
            release();
            throw e;
        }
    }

    /** Starts {@code body} on a platform thread if the budget allows, else on a virtual thread. */
    public static Thread start(String name, Runnable body) {
        return tryAcquire() ? startAcquired(name, body) : Thread.ofVirtual().name(name).start(body);
    }
}
