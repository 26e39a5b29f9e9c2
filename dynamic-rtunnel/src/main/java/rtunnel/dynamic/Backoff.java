package rtunnel.dynamic;

import java.time.Duration;

/** Doubling delays between failed attempts, from a floor to a ceiling; reset after a healthy link. */
final class Backoff {
    private final Duration floor;
    private final Duration ceiling;
    private Duration next;

    Backoff(Duration floor, Duration ceiling) {
        this.floor = floor;
        this.ceiling = ceiling;
        this.next = floor;
    }

    /** The delay to wait now; the one after it is twice as long, up to the ceiling. */
    Duration next() {
        Duration now = next;
        Duration doubled = next.multipliedBy(2);
        next = doubled.compareTo(ceiling) > 0 ? ceiling : doubled;
        return now;
    }

    void reset() {
        next = floor;
    }
}
