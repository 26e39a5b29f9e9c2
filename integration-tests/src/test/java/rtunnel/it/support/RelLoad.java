package rtunnel.it.support;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sessions that move data both ways through a tunnel and check it: an ECHO session of
 * {@code n} bytes (the {@link V2TestService} echoes) writes n pseudo-random bytes while it reads
 * the echo back, and compares the SHA-256 of both, so a lost, duplicated or corrupted byte in
 * either direction fails the session. Many run at once on virtual threads.
 */
public final class RelLoad {

    private static final int CHUNK = 32 * 1024;

    private RelLoad() {
    }

    /** The outcome of a batch of sessions. */
    public record Outcome(int sessions, int ok, long bytesBothWays, List<String> errors, long millis) {
        public boolean clean() {
            return ok == sessions && errors.isEmpty();
        }

        @Override
        public String toString() {
            return ok + "/" + sessions + " sessions ok, " + bytesBothWays / (1024 * 1024) + " MB both ways in "
                    + millis + " ms" + (errors.isEmpty() ? "" : ", errors: " + errors.subList(0, Math.min(10,
                    errors.size())) + (errors.size() > 10 ? " (+" + (errors.size() - 10) + " more)" : ""));
        }
    }

    /**
     * One ECHO session of {@code bytes} from {@code client} through 127.0.0.1:{@code port}; throws
     * with what went wrong. Returns the bytes moved in both directions together.
     */
    public static long echo(String client, int port, long bytes, long seed, Duration readTimeout) throws IOException {
        try (Socket s = EchoService.connectFrom(Launchers.addr(client), FixedServer.LOCAL, port, readTimeout)) {
            s.getOutputStream().write("ECHO\n".getBytes(US_ASCII));
            Queue<Throwable> writerError = new ConcurrentLinkedQueue<>();
            String[] sent = new String[1];
            Thread writer = Thread.ofVirtual().name("load-writer").start(() -> {
                try {
                    sent[0] = write(s.getOutputStream(), bytes, seed);
                    s.shutdownOutput();
                } catch (IOException | RuntimeException e) {
                    writerError.add(e);
                }
            });
            String got = hash(s.getInputStream(), bytes);
            try {
                if (!writer.join(readTimeout)) {
                    throw new IOException("writer still running after the echo came back");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            if (!writerError.isEmpty()) {
                throw new IOException("writing: " + writerError.peek(), writerError.peek());
            }
            String want = bytes + " " + sent[0];
            if (!want.equals(got)) {
                throw new IOException("echo mismatch: sent " + want + ", got back " + got);
            }
            return 2 * bytes;
        }
    }

    /**
     * {@code count} ECHO sessions of {@code bytes} each, all at once, spread over {@code ports}
     * (session i uses {@code ports[i % ports.length]}); bounded by {@code timeout} in all.
     */
    public static Outcome concurrent(String client, int[] ports, int count, long bytes, Duration timeout) {
        long t0 = System.nanoTime();
        Queue<String> errors = new ConcurrentLinkedQueue<>();
        AtomicLong moved = new AtomicLong();
        int ok = 0;
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Long>> fs = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int port = ports[i % ports.length];
                long seed = 1000L + i;
                fs.add(ex.submit(() -> echo(client, port, bytes, seed, Duration.ofSeconds(60))));
            }
            long deadline = t0 + timeout.toNanos();
            for (int i = 0; i < fs.size(); i++) {
                try {
                    moved.addAndGet(fs.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
                    ok++;
                } catch (TimeoutException e) {
                    errors.add("session " + i + ": not done within " + timeout);
                    fs.get(i).cancel(true);
                } catch (java.util.concurrent.ExecutionException e) {
                    errors.add("session " + i + " (port " + ports[i % ports.length] + "): " + e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    errors.add("interrupted");
                    break;
                }
            }
            ex.shutdownNow();
        }
        return new Outcome(count, ok, moved.get(), List.copyOf(errors),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    /** Writes {@code n} bytes derived from {@code seed}; returns their hex SHA-256. */
    static String write(OutputStream out, long n, long seed) throws IOException {
        MessageDigest md = sha256();
        byte[] chunk = Sha256.randomBytes(CHUNK, seed);
        for (long k = 0, left = n; left > 0; k++) {
            ByteBuffer.wrap(chunk).putLong(0, k ^ seed);
            int len = (int) Math.min(CHUNK, left);
            out.write(chunk, 0, len);
            md.update(chunk, 0, len);
            left -= len;
        }
        out.flush();
        return HexFormat.of().formatHex(md.digest());
    }

    /** {@code "<count> <hex sha256>"} of {@code in} to its end, stopping early past {@code max} bytes. */
    static String hash(InputStream in, long max) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[64 * 1024];
        long count = 0;
        for (int n; (n = in.read(buf)) >= 0; ) {
            md.update(buf, 0, n);
            count += n;
            if (count > max) {
                break; // more than was sent: the comparison will fail
            }
        }
        return count + " " + HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
