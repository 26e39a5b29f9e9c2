package rtunnel.common.v2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * A link's liveness (docs/PROTOCOL.md, "Liveness"): pings the peer every interval and ends the
 * link when nothing was heard from it for the timeout. Runs on the link's {@code -watchdog}
 * thread until the link is closed.
 */
final class Watchdog {
    private Watchdog() {
    }

    static void run(Mux mux, LinkWriter writer, Duration pingInterval, Duration pingTimeout) {
        long tick = Math.min(pingInterval.toMillis(), 1000);
        long lastPing = System.nanoTime();
        while (!mux.closed()) {
            try {
                Thread.sleep(tick);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            if (mux.silenceNanos() > pingTimeout.toNanos()) {
                mux.close("no word from the peer for " + pingTimeout.toSeconds() + " s");
                return;
            }
            if (now - lastPing >= pingInterval.toNanos()) {
                lastPing = now;
                pingIfFree(mux, writer, pingInterval);
            }
        }
    }

    /**
     * A link busy writing needs no ping; a stalled one is caught by the timeout, not by blocking
     * here. A drained link's writer drops the ping (nothing may follow its half-close).
     */
    private static void pingIfFree(Mux mux, LinkWriter writer, Duration pingInterval) {
        try {
            writer.tryWrite(FrameIO.encode(FrameType.PING, 0, ByteBuffer.allocate(8).putLong(System.nanoTime()).array()),
                    pingInterval.toMillis());
        } catch (IOException e) {
            mux.close("ping failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
