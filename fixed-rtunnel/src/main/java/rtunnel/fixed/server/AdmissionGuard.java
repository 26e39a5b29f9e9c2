package rtunnel.fixed.server;

import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Limits on connections that have not authenticated yet: a cap in all and per address, so idle
 * or slow connections from one host cannot crowd out the others, and a per-address back-off
 * after wrong passwords (free tries, then a wait that doubles up to a minute), so guessing from
 * one address is slowed while every other address is unaffected.
 */
final class AdmissionGuard {
    static final int MAX_PENDING = 256;
    static final int MAX_PENDING_PER_ADDRESS = 16;
    static final int FREE_FAILURES = 3;
    static final long MAX_BLOCK_MILLIS = 60_000;
    /** Forget an address's failures after this long without one. */
    static final long FORGET_MILLIS = 15 * 60_000;
    private static final int TABLE_LIMIT = 10_000;

    private record Failures(int count, long lastMillis, long blockedUntilMillis) {
    }

    private final AtomicInteger pending = new AtomicInteger();
    /** Connections in their handshake, oldest first: when all slots are taken the oldest gives way. */
    private final java.util.concurrent.ConcurrentLinkedDeque<java.net.Socket> waiting =
            new java.util.concurrent.ConcurrentLinkedDeque<>();
    private final Map<InetAddress, AtomicInteger> pendingByAddress = new ConcurrentHashMap<>();
    private final Map<InetAddress, Failures> failures = new ConcurrentHashMap<>();

    /**
     * Admits a connection into the handshake, or says why not; an admitted one must
     * {@link #leave}. When every slot is taken, the oldest connection still in its handshake is
     * closed to make room: a flood of idle connections from many addresses then only ever delays
     * a real peer by its own handshake, instead of locking it out until the flood times out.
     */
    String enter(java.net.Socket s) {
        InetAddress a = s.getInetAddress();
        long now = System.currentTimeMillis();
        Failures f = failures.get(a);
        if (f != null && f.blockedUntilMillis() > now) {
            return "too many wrong passwords from this address; next try accepted in "
                    + ((f.blockedUntilMillis() - now + 999) / 1000) + " s";
        }
        AtomicInteger mine = pendingByAddress.computeIfAbsent(a, k -> new AtomicInteger());
        if (mine.incrementAndGet() > MAX_PENDING_PER_ADDRESS) {
            pendingByAddress.computeIfPresent(a, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
            return "too many handshakes in progress from this address (" + MAX_PENDING_PER_ADDRESS + ")";
        }
        if (pending.incrementAndGet() > MAX_PENDING) {
            java.net.Socket oldest = waiting.pollFirst();
            if (oldest != null) {
                try {
                    oldest.close(); // its handshake thread fails and leaves, freeing the slot
                } catch (java.io.IOException ignored) {
                    // Closed anyway.
                }
            }
        }
        waiting.addLast(s);
        return null;
    }

    void leave(java.net.Socket s) {
        waiting.remove(s);
        pending.decrementAndGet();
        pendingByAddress.computeIfPresent(s.getInetAddress(), (k, n) -> n.decrementAndGet() <= 0 ? null : n);
    }

    void failed(InetAddress a) {
        long now = System.currentTimeMillis();
        if (failures.size() >= TABLE_LIMIT) {
            failures.values().removeIf(f -> now - f.lastMillis() > FORGET_MILLIS);
        }
        if (failures.size() >= TABLE_LIMIT) {
            return; // a flood from very many addresses: the pending caps still hold
        }
        failures.compute(a, (k, f) -> {
            int count = f == null || now - f.lastMillis() > FORGET_MILLIS ? 1 : f.count() + 1;
            long block = count <= FREE_FAILURES ? 0
                    : Math.min(MAX_BLOCK_MILLIS, 1000L << Math.min(16, count - FREE_FAILURES - 1));
            return new Failures(count, now, now + block);
        });
    }

    void succeeded(InetAddress a) {
        failures.remove(a);
    }
}
