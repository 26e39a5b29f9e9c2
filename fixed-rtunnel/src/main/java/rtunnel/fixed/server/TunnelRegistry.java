package rtunnel.fixed.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/** The live tunnels, by id; ids count up from 1 and are never reused while the server runs. */
public final class TunnelRegistry {
    private final Map<Long, Tunnel> live = new ConcurrentSkipListMap<>();
    private final AtomicLong nextId = new AtomicLong(1);
    private final int max;

    public TunnelRegistry(int max) {
        this.max = max;
    }

    /** True when no further tunnel may be registered. */
    public boolean full() {
        return live.size() >= max;
    }

    /** Gives the tunnel an id and lists it, unless the server is full. */
    public synchronized Optional<Long> register(Tunnel tunnel) {
        if (full()) {
            return Optional.empty();
        }
        long id = nextId.getAndIncrement();
        tunnel.assignId(id);
        live.put(id, tunnel);
        return Optional.of(id);
    }

    public void remove(long id) {
        live.remove(id);
    }

    public Optional<Tunnel> get(long id) {
        return Optional.ofNullable(live.get(id));
    }

    /** Tunnels in id order. */
    public List<Tunnel> all() {
        return new ArrayList<>(live.values());
    }

    public int max() {
        return max;
    }

    public int size() {
        return live.size();
    }
}
