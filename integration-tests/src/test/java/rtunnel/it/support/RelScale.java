package rtunnel.it.support;

/**
 * Sizes of the reliability tests. {@code make test} runs the short figures; {@code make soak}
 * sets {@code -Drel.full=true} for the figures; any single figure can be set with its own
 * property (for example {@code -Drel.churn.sessions=5000}).
 */
public final class RelScale {

    private RelScale() {
    }

    /** The figure {@code name}: its own property, else {@code full} with rel.full, else {@code short}. */
    public static int of(String name, int shortValue, int fullValue) {
        String v = System.getProperty(name);
        if (v != null && !v.isBlank()) {
            return Integer.parseInt(v.strip());
        }
        return full() ? fullValue : shortValue;
    }

    /** True when the full figures are asked for. */
    public static boolean full() {
        return Boolean.getBoolean("rel.full");
    }
}
