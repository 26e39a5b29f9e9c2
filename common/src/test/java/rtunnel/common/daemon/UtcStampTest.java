package rtunnel.common.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class UtcStampTest {
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private static String stamp(long ms) {
        return UtcStamp.append(new StringBuilder(), ms).toString();
    }

    @Test
    void knownInstants() {
        assertEquals("1970-01-01T00:00:00.000Z", stamp(0));
        assertEquals("2000-02-29T23:59:59.999Z", stamp(Instant.parse("2000-02-29T23:59:59.999Z").toEpochMilli()));
        assertEquals("2026-11-23T18:03:26.123Z", stamp(Instant.parse("2026-11-23T18:03:26.123Z").toEpochMilli()));
        assertEquals("2100-03-01T00:00:00.007Z", stamp(Instant.parse("2100-03-01T00:00:00.007Z").toEpochMilli()));
    }

    @Test
    void agreesWithJavaTimeOverTwoCenturies() {
        SplittableRandom r = new SplittableRandom(42);
        long end = Instant.parse("2170-01-01T00:00:00Z").toEpochMilli();
        for (int i = 0; i < 200_000; i++) {
            long ms = r.nextLong(0, end);
            assertEquals(ISO.format(Instant.ofEpochMilli(ms)), stamp(ms), () -> "at " + ms);
        }
    }
}
