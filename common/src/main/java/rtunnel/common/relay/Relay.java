package rtunnel.common.relay;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Blocking byte copies between two streams. Each direction runs on its own virtual thread and
 * reads the next chunk only after the previous write returned, so a slow reader slows only its
 * own writer (flow control comes from the blocking write).
 */
public final class Relay {
    /** Large enough that one TLS record (16 KiB) or more moves per call; the original's 512 capped throughput. */
    public static final int BUFFER_SIZE = 64 * 1024;

    private Relay() {
    }

    /**
     * Copies {@code in} to {@code out} until end of stream; counts what was written.
     * An exception from either side ends the copy and is passed up.
     */
    public static long pump(InputStream in, OutputStream out, AtomicLong counter, int bufferSize)
            throws IOException {
        return pump(in, out, counter, new byte[bufferSize]);
    }

    /** As {@link #pump(InputStream, OutputStream, AtomicLong, int)}, with the caller's buffer. */
    public static long pump(InputStream in, OutputStream out, AtomicLong counter, byte[] buffer)
            throws IOException {
        return pump(in, out, counter, buffer, null);
    }

    /**
     * As {@link #pump(InputStream, OutputStream, AtomicLong, byte[])} to a TLS stream over
     * {@code link} (or null): each chunk's records (four of 16 KiB for a full buffer) leave in
     * one write instead of one write each.
     */
    public static long pump(InputStream in, OutputStream out, AtomicLong counter, byte[] buffer, LinkSocket link)
            throws IOException {
        if (link != null) {
            link.writeBusy(true);
        }
        long total = 0;
        int n;
        while ((n = in.read(buffer)) >= 0) {
            if (n == 0) {
                continue;
            }
            if (link != null) {
                link.holdFlushes();
                try {
                    out.write(buffer, 0, n);
                } finally {
                    link.sendHeld();
                }
            } else {
                out.write(buffer, 0, n);
            }
            out.flush();
            total += n;
            counter.addAndGet(n);
        }
        return total;
    }

    /**
     * Carries bytes both ways between {@code a} and {@code b} until either side ends or fails,
     * then closes both sockets (v1 semantics: one end closing ends the whole session).
     * Blocks until both directions have stopped.
     *
     * @param aToB counts bytes written to b; {@code bToA} bytes written to a
     * @param link the TCP socket beneath {@code a} when {@code a} is a TLS link (else null): then
     *        {@code a} is read through the link's buffer and written a chunk at a time
     * @param closeAll closes both sides; for a TLS socket it should close the TCP socket beneath,
     *        because closing an SSLSocket waits for a writer that may be blocked on a slow peer
     */
    public static void bothWays(Socket a, Socket b, AtomicLong aToB, AtomicLong bToA, LinkSocket link,
            Runnable closeAll) throws InterruptedException {
        Thread back = Thread.ofVirtual().name("relay-b2a").start(() -> copyThenClose(b, a, bToA, link, closeAll));
        if (link != null) {
            try {
                link.busy(true); // on the thread that reads the link, as busy() requires
            } catch (IOException e) {
                closeAll.run();
            }
        }
        copyThenClose(a, b, aToB, null, closeAll);
        back.join();
    }

    private static void copyThenClose(Socket from, Socket to, AtomicLong counter, LinkSocket link,
            Runnable closeAll) {
        try {
            pump(from.getInputStream(), to.getOutputStream(), counter, new byte[BUFFER_SIZE], link);
        } catch (IOException e) {
            // A reset or a TLS peer that closed without close_notify is how sessions end; not an error.
        } finally {
            closeAll.run();
        }
    }

    public static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // Closing is best effort: the peer may already be gone.
        }
    }
}
