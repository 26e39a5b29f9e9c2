package rtunnel.common.net;

import java.net.InetAddress;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A set of address ranges, in the order they were added, each permanent or with an expiry time
 * after which it stops admitting by itself. Reads are lock-free and see every change at once,
 * which is what lets an allowlist change reach tunnels that are already waiting.
 */
public final class Allowlist {
    /** One entry; {@code expires} is null for a permanent one. */
    public record Entry(AddressRange range, Instant expires) {
        boolean live(Instant now) {
            return expires == null || now.isBefore(expires);
        }
    }

    private final CopyOnWriteArrayList<Entry> entries = new CopyOnWriteArrayList<>();

    /** Adds the range for good; false if it was already there for good. */
    public boolean add(AddressRange r) {
        return add(r, null);
    }

    /**
     * Adds the range until {@code expires} (null: for good). Adding a range that is already there
     * replaces its expiry; false if nothing changed.
     */
    public synchronized boolean add(AddressRange r, Instant expires) {
        purge();
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (e.range().equals(r)) {
                if (java.util.Objects.equals(e.expires(), expires)) {
                    return false;
                }
                entries.set(i, new Entry(r, expires));
                return true;
            }
        }
        entries.add(new Entry(r, expires));
        return true;
    }

    /** Removes exactly this range; false if it was not there. */
    public synchronized boolean remove(AddressRange r) {
        purge();
        return entries.removeIf(e -> e.range().equals(r));
    }

    public boolean allows(InetAddress a) {
        Instant now = Instant.now();
        for (Entry e : entries) {
            if (e.live(now) && e.range().contains(a)) {
                return true;
            }
        }
        return false;
    }

    /** The live ranges. */
    public List<AddressRange> entries() {
        return liveEntries().stream().map(Entry::range).toList();
    }

    /** The live entries with their expiry. */
    public List<Entry> liveEntries() {
        Instant now = Instant.now();
        return entries.stream().filter(e -> e.live(now)).toList();
    }

    /** Replaces everything at once (used when state is loaded at start). */
    public synchronized void replaceAll(List<AddressRange> ranges) {
        entries.clear();
        for (AddressRange r : ranges) {
            add(r, null);
        }
    }

    /** Replaces everything with these entries (state loaded at start). */
    public synchronized void replaceAllEntries(List<Entry> list) {
        entries.clear();
        for (Entry e : list) {
            add(e.range(), e.expires());
        }
    }

    private void purge() {
        Instant now = Instant.now();
        entries.removeIf(e -> !e.live(now));
    }
}
