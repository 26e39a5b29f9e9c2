package rtunnel.dynamic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void doublesFromOneSecondUpToThirtyAndResets() {
        Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));
        long[] expected = {1, 2, 4, 8, 16, 30, 30};
        for (long e : expected) {
            assertEquals(Duration.ofSeconds(e), b.next());
        }
        b.reset();
        assertEquals(Duration.ofSeconds(1), b.next());
    }
}
