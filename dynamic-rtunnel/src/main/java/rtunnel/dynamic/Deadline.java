package rtunnel.dynamic;

import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import rtunnel.common.relay.Relay;

/**
 * Closes a socket when a step of the dial takes too long, in place of a connect timeout or a
 * read timeout: the JDK turns a socket non-blocking for good once a timed call has used it, and a
 * v2 link's socket stays blocking, so its reader waits in one read (see {@code LinkSocket}). The
 * call that was waiting fails with a closed socket; {@link #expired} tells that apart.
 */
final class Deadline implements AutoCloseable {
    private final Thread timer;
    private final AtomicBoolean settled = new AtomicBoolean();
    private volatile boolean expired;

    Deadline(Socket socket, Duration after) {
        timer = Thread.ofVirtual().name("dial-deadline").start(() -> {
            try {
                Thread.sleep(after);
            } catch (InterruptedException e) {
                return; // the step ended in time
            }
            if (settled.compareAndSet(false, true)) {
                expired = true;
                Relay.closeQuietly(socket);
            }
        });
    }

    /** True if the socket was closed because the time ran out. */
    boolean expired() {
        return expired;
    }

    @Override
    public void close() {
        if (settled.compareAndSet(false, true)) {
            timer.interrupt();
        }
    }
}
