package rtunnel.common.net;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A set of address ranges, in the order they were added. Reads are lock-free and see every
 * change at once, which is what lets an allowlist change reach tunnels that are already waiting.
 */
public final class Allowlist {
    private final CopyOnWriteArrayList<AddressRange> entries = new CopyOnWriteArrayList<>();

    /** Adds the range; false if it was already there. */
    public boolean add(AddressRange r) {
        return entries.addIfAbsent(r);
    }

    /** Removes exactly this range; false if it was not there. */
    public boolean remove(AddressRange r) {
        return entries.remove(r);
    }

    public boolean allows(InetAddress a) {
        for (AddressRange r : entries) {
            if (r.contains(a)) {
                return true;
            }
        }
        return false;
    }

    public List<AddressRange> entries() {
        return List.copyOf(entries);
    }

    /** Replaces everything at once (used when state is loaded at start). */
    public void replaceAll(List<AddressRange> ranges) {
        entries.clear();
        for (AddressRange r : ranges) {
            entries.addIfAbsent(r);
        }
    }
}
