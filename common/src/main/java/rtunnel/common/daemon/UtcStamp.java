package rtunnel.common.daemon;

/**
 * ISO 8601 UTC time with milliseconds ({@code 2026-11-23T18:03:26.123Z}) by arithmetic: the JDK's
 * date formatters load locale data and the time-zone database, ~60 ms of every start.
 */
final class UtcStamp {
    private UtcStamp() {
    }

    static StringBuilder append(StringBuilder b, long epochMillis) {
        long days = Math.floorDiv(epochMillis, 86_400_000L);
        long ms = Math.floorMod(epochMillis, 86_400_000L);
        // Civil date from days since 1970-01-01 (Howard Hinnant's days_to_civil).
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        long day = doy - (153 * mp + 2) / 5 + 1;
        long month = mp < 10 ? mp + 3 : mp - 9;
        long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        b.append(year).append('-');
        two(b, month).append('-');
        two(b, day).append('T');
        two(b, ms / 3_600_000).append(':');
        two(b, ms / 60_000 % 60).append(':');
        two(b, ms / 1000 % 60).append('.');
        long milli = ms % 1000;
        return b.append(milli < 100 ? (milli < 10 ? "00" : "0") : "").append(milli).append('Z');
    }

    private static StringBuilder two(StringBuilder b, long v) {
        return b.append(v < 10 ? "0" : "").append(v);
    }
}
