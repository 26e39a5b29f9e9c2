package rtunnel.it.support;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** {@link Procs#waitFor} that adds the logs a failure needs, read only when it fails. */
public final class SecWait {

    private SecWait() {
    }

    /** Polls {@code condition} (bounded); on timeout fails with {@code what} and {@code context}. */
    public static void until(Duration timeout, BooleanSupplier condition, String what, Supplier<String> context) {
        try {
            Procs.waitFor(timeout, condition, what);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + context.get(), e);
        }
    }
}
