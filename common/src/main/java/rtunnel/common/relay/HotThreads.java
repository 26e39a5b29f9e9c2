package rtunnel.common.relay;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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
 * tunnel at a few kilobytes. The platform threads are kept a few seconds for the next body
 * ({@link #POOL}): a session's start then costs no new thread.
 */
public final class HotThreads {
    /** At most this many platform threads carry data at once ({@code -Drtunnel.hotThreads=N}). */
    public static final int LIMIT = Integer.getInteger("rtunnel.hotThreads", 256);
    /** Relay code is shallow; a small stack keeps each thread's reservation small. */
    private static final long STACK_BYTES = 512 * 1024;
    private static final long IDLE_SECONDS = 5;
    private static final String IDLE_NAME = "hot-idle";
    private static final AtomicInteger inUse = new AtomicInteger();

    private HotThreads() {
    }

    /** Takes one place in the budget; false when it is used up. */
    public static boolean tryAcquire() {
        return tryAcquireBelow(LIMIT);
    }

    /**
     * Takes a place only while less than half the budget is used: for a thread that only saves a
     * wake-up (a busy tunnel's accept loop), never at the cost of a place for a stream's bytes.
     */
    public static boolean tryAcquireSpare() {
        return tryAcquireBelow(LIMIT / 2);
    }

    private static boolean tryAcquireBelow(int limit) {
        while (true) {
            int n = inUse.get();
            if (n >= limit) {
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

    /** A body started here; {@link #join()} waits for it to end. */
    public interface Job {
        void join() throws InterruptedException;
    }

    /** Starts {@code body} on a platform thread holding a place already taken with {@link #tryAcquire()}. */
    public static Job startAcquired(String name, Runnable body) {
        Task task = new Task(name, body, true);
        try {
            POOL.execute(task);
        } catch (RuntimeException | Error e) {
            release();
            throw e;
        }
        return task;
    }

    /** Starts {@code body} on a platform thread if the budget allows, else on a virtual thread. */
    public static Job start(String name, Runnable body) {
        return tryAcquire() ? startAcquired(name, body) : Thread.ofVirtual().name(name).start(body)::join;
    }

    /** Starts {@code body} on a pooled platform thread outside the budget (a short-lived helper of a hot stream). */
    public static void startExtra(String name, Runnable body) {
        POOL.execute(new Task(name, body, false));
    }

    /**
     * Platform threads that ended their body wait {@link #IDLE_SECONDS} for the next one, newest
     * first, before they end. Starting a platform thread costs ~160 µs on the bench machine, more
     * while a session starts (its fresh stack and the JDK's per-thread buffers fault in page by page,
     * ~14 µs a page on this VM); a waiting one takes a body in ~15 µs, with its stack, its buffers
     * and its JIT-warmed frames in place.
     */
    private static final ThreadPoolExecutor POOL = new ThreadPoolExecutor(0, Integer.MAX_VALUE, IDLE_SECONDS,
            TimeUnit.SECONDS, new SynchronousQueue<>(),
            r -> Thread.ofPlatform().daemon(true).stackSize(STACK_BYTES).name(IDLE_NAME).unstarted(r));

    /** A body, named after its work while it runs; it gives back its place in the budget when it ends. */
    private static final class Task implements Runnable, Job {
        private final String name;
        private final Runnable body;
        private final boolean acquired;
        private final CountDownLatch done = new CountDownLatch(1);

        Task(String name, Runnable body, boolean acquired) {
            this.name = name;
            this.body = body;
            this.acquired = acquired;
        }

        @Override
        public void run() {
            Thread self = Thread.currentThread();
            self.setName(name);
            try {
                body.run();
            } catch (RuntimeException | Error e) {
                self.getUncaughtExceptionHandler().uncaughtException(self, e);
            } finally {
                if (acquired) {
                    release();
                }
                Thread.interrupted(); // the next body starts uninterrupted
                self.setName(IDLE_NAME);
                done.countDown();
            }
        }

        @Override
        public void join() throws InterruptedException {
            done.await();
        }
    }
}
