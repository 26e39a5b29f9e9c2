package rtunnel.common.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The budget's platform threads: each body named, its place given back, the thread kept for the next body. */
class HotThreadsTest {

    /** What a body saw of the thread it ran on. */
    private record Seen(Thread thread, String name, boolean interrupted) {
    }

    private static Seen look() {
        Thread t = Thread.currentThread();
        return new Seen(t, t.getName(), t.isInterrupted());
    }

    private static Seen run(boolean acquired, String name) throws Exception {
        AtomicReference<Seen> seen = new AtomicReference<>();
        if (acquired) {
            assertTrue(HotThreads.tryAcquire());
            HotThreads.startAcquired(name, () -> seen.set(look())).join();
        } else {
            CountDownLatch done = new CountDownLatch(1);
            HotThreads.startExtra(name, () -> {
                seen.set(look());
                done.countDown();
            });
            assertTrue(done.await(10, TimeUnit.SECONDS));
        }
        return seen.get();
    }

    @Test
    @Timeout(30)
    void aFinishedThreadTakesTheNextBodyUnderItsName() throws Exception {
        int before = HotThreads.inUse();
        Seen first = run(true, "test-first");
        assertEquals(before, HotThreads.inUse(), "the place is given back when the body ends");
        awaitIdle(first.thread());
        Seen second = run(true, "test-second");
        assertSame(first.thread(), second.thread(), "the idle thread took the next body");
        assertEquals("test-first", first.name());
        assertEquals("test-second", second.name());
        assertFalse(first.thread().isVirtual());
    }

    @Test
    @Timeout(30)
    void anExtraBodyHoldsNoPlace() throws Exception {
        int before = HotThreads.inUse();
        Seen extra = run(false, "test-extra");
        assertEquals("test-extra", extra.name());
        assertFalse(extra.thread().isVirtual());
        assertEquals(before, HotThreads.inUse());
    }

    @Test
    @Timeout(30)
    void aFailingOrInterruptedBodyLeavesTheThreadCleanForTheNext() throws Exception {
        CompletableFuture<Throwable> reported = new CompletableFuture<>();
        AtomicReference<Thread> failedOn = new AtomicReference<>();
        assertTrue(HotThreads.tryAcquire());
        HotThreads.startAcquired("test-fail", () -> {
            Thread self = Thread.currentThread();
            failedOn.set(self);
            Thread.UncaughtExceptionHandler old = self.getUncaughtExceptionHandler();
            self.setUncaughtExceptionHandler((t, e) -> {
                reported.complete(e);
                t.setUncaughtExceptionHandler(old);
            });
            self.interrupt();
            throw new IllegalStateException("boom");
        }).join();
        assertEquals("boom", reported.get(10, TimeUnit.SECONDS).getMessage());
        awaitIdle(failedOn.get());
        Seen next = run(true, "test-after-failure");
        assertSame(failedOn.get(), next.thread(), "the thread outlived the failure");
        assertFalse(next.interrupted(), "the next body starts uninterrupted");
    }

    @Test
    void aSparePlaceIsTakenOnlyWhileHalfTheBudgetIsFree() {
        int taken = 0;
        try {
            while (HotThreads.tryAcquireSpare()) {
                taken++;
            }
            assertEquals(HotThreads.LIMIT / 2, HotThreads.inUse(), "spare places stop at half the budget");
            assertTrue(HotThreads.tryAcquire(), "the other half is left for streams");
            taken++;
        } finally {
            for (int i = 0; i < taken; i++) {
                HotThreads.release();
            }
        }
    }

    @Test
    @Timeout(30)
    void beyondTheBudgetABodyRunsOnAVirtualThread() throws Exception {
        int taken = 0;
        while (HotThreads.tryAcquire()) {
            taken++;
        }
        try {
            AtomicReference<Seen> seen = new AtomicReference<>();
            HotThreads.start("test-virtual", () -> seen.set(look())).join();
            assertTrue(seen.get().thread().isVirtual());
        } finally {
            for (int i = 0; i < taken; i++) {
                HotThreads.release();
            }
        }
    }

    /**
     * Waits until {@code t} waits for its next body: named idle and parked in the pool's queue (a
     * body handed over a moment before that would get a new thread).
     */
    private static void awaitIdle(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!(t.getName().equals("hot-idle") && t.getState() == Thread.State.TIMED_WAITING)
                && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals("hot-idle", t.getName());
        assertEquals(Thread.State.TIMED_WAITING, t.getState());
    }
}
