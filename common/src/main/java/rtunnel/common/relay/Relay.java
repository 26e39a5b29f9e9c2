package rtunnel.common.relay;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Blocking byte copies between two streams. Each direction runs on its own thread (a platform
 * one while {@link HotThreads} allows) and reads the next chunk only after the previous write
 * returned, so a slow reader slows only its own writer (flow control comes from the blocking write).
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
     * Copies a TLS stream over {@code link} to {@code out} until end of stream; counts what was
     * written. JSSE gives at most one record (16 KiB) per read, so after a read the records that
     * have already arrived ({@link LinkSocket#recordReady}) are read too, and up to a buffer's
     * worth goes out in one write: one call, and one wake-up of the reader at the other end,
     * instead of one per record (the original's 512-byte records: one per 64 KiB instead of 128).
     * It never waits for a record in order to gather it.
     */
    public static long pumpFromLink(InputStream in, OutputStream out, AtomicLong counter, byte[] buffer,
            LinkSocket link) throws IOException {
        long total = 0;
        boolean end = false;
        while (!end) {
            int n = in.read(buffer);
            if (n < 0) {
                break;
            }
            while (n < buffer.length && (in.available() > 0 || link.recordReady())) {
                int k = in.read(buffer, n, buffer.length - n);
                if (k < 0) {
                    end = true;
                    break;
                }
                n += k;
            }
            if (n > 0) {
                out.write(buffer, 0, n);
                out.flush();
                total += n;
                counter.addAndGet(n);
            }
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
        // A platform thread while the budget allows, as the caller's own (see HotThreads).
        HotThreads.Job back = HotThreads.start("relay-b2a", () -> copyThenClose(b, a, bToA, link, null, closeAll));
        if (link != null) {
            try {
                link.busy(true); // on the thread that reads the link, as busy() requires
            } catch (IOException e) {
                closeAll.run();
            }
        }
        copyThenClose(a, b, aToB, null, link, closeAll);
        back.join();
    }

    /** {@code toLink}: {@code to} is TLS over that link; {@code fromLink}: {@code from} is. */
    private static void copyThenClose(Socket from, Socket to, AtomicLong counter, LinkSocket toLink,
            LinkSocket fromLink, Runnable closeAll) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            if (fromLink != null) {
                pumpFromLink(in, out, counter, new byte[BUFFER_SIZE], fromLink);
            } else {
                pump(in, out, counter, new byte[BUFFER_SIZE], toLink);
            }
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
