package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.RelJunk;
import rtunnel.it.support.RelLoad;
import rtunnel.it.support.RelScale;
import rtunnel.it.support.RelServer;
import rtunnel.it.support.RelStats;
import rtunnel.it.support.Sha256;
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2TestService;

/**
 * Issue 7, acceptance 6: hostile input on every listening surface at once. The TLS port gets
 * random bytes, fake and oversized TLS records, ClientHellos cut short and stalled handshakes, v2
 * links with oversized, truncated, garbage and unknown frames, and a cut v1 auth block; the
 * tunnel's client port gets random bytes from allowed and refused addresses; the control socket
 * gets random bytes, over-long and cut lines and floods of bad requests; and 300 half-open
 * connections (1,000 with {@code -Drel.full=true}) sit on the three surfaces. Meanwhile a real
 * tunnel keeps carrying checked sessions and the control socket keeps answering; afterwards the
 * server is up, logged no ERROR, its descriptors are back and its memory stayed bounded.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RelHostileInputIT {

    private static final String PASSWORD = V2Fixture.password(8);
    private static final int HALF_OPEN = RelScale.of("rel.hostile.halfopen", 300, 1000);
    private static final long MAX_RSS_GROWTH_KB = 160 * 1024;
    private static final long MAX_HEAP_GROWTH_KB = 16 * 1024;
    private static final int MAX_FD_GROWTH = 10;
    /** Junk sources that pass the tunnel allowlist, so their junk reaches the handshake. */
    private static final String JUNK_TUNNEL_NET = "127.0.30.";
    /** Junk sources on the client allowlist, and ones that are not. */
    private static final String JUNK_CLIENT_NET = "127.0.31.";
    private static final String REFUSED_CLIENT_NET = "127.0.32.";

    @TempDir
    Path tmp;

    private RelServer fixed;
    private V2TestService service;
    private final Queue<AutoCloseable> held = new ConcurrentLinkedQueue<>();

    @AfterEach
    void stopAll() throws IOException {
        held.forEach(RelJunk::closeQuietly);
        if (fixed != null) {
            fixed.close();
        }
        if (service != null) {
            service.close();
        }
    }

    @Test
    void junkOnEverySurfaceNeitherStopsARealTunnelNorGrowsTheServer() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = RelServer.create(tmp.resolve("fixed"), PASSWORD, null);
        fixed.start();
        fixed.ok("addip-tunnel", V2Fixture.DYNAMIC_HOST);
        fixed.ok("addip-tunnel", JUNK_TUNNEL_NET + "0/24");
        fixed.ok("addip-client", V2Fixture.CLIENT);
        fixed.ok("addip-client", JUNK_CLIENT_NET + "0/24");
        fixed.startDynamic(V2Fixture.DYNAMIC_HOST, "rel-real", service.port());
        Tunnel real = fixed.awaitV2("rel-real", Duration.ofSeconds(40));
        for (int i = 0; i < 5; i++) {
            RelLoad.echo(V2Fixture.CLIENT, real.port(), 128 * 1024, i, Duration.ofSeconds(30));
        }
        RelStats before = RelStats.afterGc(fixed.pid());

        Prober prober = Prober.start(fixed, real.port());
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        int probesBefore;
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int i = 0; i < HALF_OPEN; i++) {
                int k = i;
                jobs.add(ex.submit(() -> halfOpen(k, real.port())));
            }
            for (int i = 0; i < 40; i++) {
                int k = i;
                jobs.add(ex.submit(() -> tlsPortJunk(k, problems)));
                jobs.add(ex.submit(() -> clientPortJunk(k, real.port())));
                jobs.add(ex.submit(() -> controlJunk(k, problems)));
            }
            for (int i = 0; i < 10; i++) {
                int k = i;
                jobs.add(ex.submit(() -> v2FrameJunk(k, problems)));
            }
            probesBefore = prober.ok.get();
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            for (Future<?> f : jobs) {
                try {
                    f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    problems.add("junk job failed: " + e.getCause());
                } catch (java.util.concurrent.TimeoutException e) {
                    problems.add("junk job still running after 90 s");
                    f.cancel(true);
                }
            }
        }
        // The half-open connections and stalled handshakes are still held: the real tunnel must
        // still carry sessions now, with all of them in place.
        int heldCount = held.size();
        // The junk jobs may finish before a probe fits in (a quick machine): with every junk
        // connection still held, a probe must then get through within a bound.
        final int before0 = probesBefore;
        Procs.waitFor(Duration.ofSeconds(30), () -> prober.ok.get() > before0 || !prober.errors.isEmpty(),
                "a probe through the real tunnel while the junk is held");
        int probesDuring = prober.ok.get() - probesBefore;
        for (int i = 0; i < 3; i++) {
            RelLoad.echo(V2Fixture.CLIENT, real.port(), 256 * 1024, 100 + i, Duration.ofSeconds(30));
        }
        assertTrue(fixed.isAlive(), () -> "fixed_rtunnel died under hostile input\n" + fixed.describe());
        RelStats during = RelStats.of(fixed.pid());

        held.forEach(RelJunk::closeQuietly);
        held.clear();
        prober.stop();
        System.out.printf("RelHostileInputIT: %d half-open + junk held %d; probes ok %d (%d while junk ran, slowest %d ms), "
                + "failed %s; server before %s, under junk %s%n", HALF_OPEN, heldCount, prober.ok.get(), probesDuring,
                prober.slowestMs.get(), prober.errors, before, during);
        assertTrue(problems.isEmpty(), () -> "hostile input handled wrongly: " + problems + "\n" + fixed.describe());
        assertTrue(prober.errors.isEmpty(), () -> "the real tunnel or the control socket failed while junk was in "
                + "flight: " + prober.errors + "\n" + fixed.describe());
        // How many probes fit in the junk phase depends on the machine's load; that one got through while
        // the junk was in flight, and three full sessions right after, is what counts.
        assertTrue(prober.ok.get() >= 1, () -> "no probe got through: " + prober.ok.get());
        assertTrue(probesDuring >= 1, "no session got through the real tunnel while the junk was in flight");

        assertTrue(during.rssKb() <= before.rssKb() + MAX_RSS_GROWTH_KB, () -> "RSS under junk: before " + before
                + ", during " + during);
        Procs.waitFor(Duration.ofSeconds(40), () -> RelStats.fds(fixed.pid()) <= before.fds() + MAX_FD_GROWTH,
                "the server's descriptors back near " + before.fds() + " once the junk is closed (now "
                        + RelStats.fds(fixed.pid()) + ")");
        RelStats after = RelStats.afterGc(fixed.pid());
        System.out.printf("RelHostileInputIT: server after %s%n", after);
        assertTrue(after.heapKb() <= before.heapKb() + MAX_HEAP_GROWTH_KB, () -> "heap after GC: before " + before
                + ", after " + after);
        assertTrue(after.rssKb() <= before.rssKb() + MAX_RSS_GROWTH_KB, () -> "RSS: before " + before + ", after "
                + after);
        RelLoad.echo(V2Fixture.CLIENT, real.port(), 256 * 1024, 999, Duration.ofSeconds(30));
        assertEquals(real.id(), fixed.v2("rel-real").orElseThrow().id(), "the real tunnel is the one from the start");
        List<String> errors = fixed.log().lines().filter(l -> l.contains(" ERROR ") || l.contains("Exception in"))
                .toList();
        assertTrue(errors.isEmpty(), () -> "the server logged errors for bad input:\n" + String.join("\n", errors));
    }

    private static InetAddress from(String net, int k) {
        return Launchers.addr(net + (1 + k % 250));
    }

    /** A silent connection, held open: a third each on the TLS port, the client port and the control socket. */
    private void halfOpen(int k, int clientPort) {
        try {
            switch (k % 5) {
                case 0, 1 -> held.add(RelJunk.tcp(from(JUNK_TUNNEL_NET, k), fixed.port(), 1000));
                case 2, 3 -> held.add(RelJunk.tcp(from(JUNK_CLIENT_NET, k), clientPort, 1000));
                default -> held.add(RelJunk.control(fixed.socket()));
            }
        } catch (IOException e) {
            // A refused connection is a server protecting itself, not a failure.
        }
    }

    /** One of several kinds of junk on the TLS port; the server must close it (or it is held as a stall). */
    private void tlsPortJunk(int k, Queue<String> problems) {
        Random rnd = new Random(k);
        byte[] hello = RelJunk.clientHello();
        try {
            Socket s = RelJunk.tcp(from(JUNK_TUNNEL_NET, 100 + k), fixed.port(), 20_000);
            OutputStream out = s.getOutputStream();
            String kind;
            switch (k % 8) {
                case 0 -> {
                    kind = "random bytes";
                    out.write(Sha256.randomBytes(1 + rnd.nextInt(64 * 1024), k));
                }
                case 1 -> {
                    kind = "greeting, then random bytes as TLS";
                    out.write(RelJunk.GREETING);
                    out.write(Sha256.randomBytes(1 + rnd.nextInt(32 * 1024), k));
                }
                case 2 -> {
                    kind = "greeting, then an oversized TLS record";
                    out.write(RelJunk.GREETING);
                    out.write(new byte[] {0x16, 0x03, 0x01, (byte) 0xff, (byte) 0xff});
                    out.write(Sha256.randomBytes(20_000, k));
                }
                case 3 -> {
                    kind = "cut greeting";
                    out.write("TUNN".getBytes(US_ASCII));
                    s.shutdownOutput();
                }
                case 4 -> {
                    kind = "half a ClientHello, then a stall";
                    out.write(RelJunk.GREETING);
                    out.write(Arrays.copyOf(hello, hello.length / 2));
                }
                case 5 -> {
                    kind = "a whole ClientHello, then a stall";
                    out.write(RelJunk.GREETING);
                    out.write(hello);
                }
                case 6 -> {
                    kind = "a ClientHello cut, then EOF";
                    out.write(RelJunk.GREETING);
                    out.write(Arrays.copyOf(hello, 10));
                    s.shutdownOutput();
                }
                default -> {
                    kind = "a greeting, then EOF";
                    out.write(RelJunk.GREETING);
                    s.shutdownOutput();
                }
            }
            out.flush();
            // Everything must be closed by the server: junk at once, a stall at its handshake deadline.
            String end = RelJunk.readToEnd(s, 1 << 20);
            if (end.startsWith("open")) {
                problems.add("TLS port, " + kind + ": still open after 20 s (" + end + ")");
            }
            s.close();
        } catch (IOException e) {
            // Refused at connect or reset while writing: the server closed it, which is fine.
        }
    }

    /** Random bytes to the real tunnel's port, from an allowed and from a refused address. */
    private void clientPortJunk(int k, int port) {
        boolean allowed = k % 2 == 0;
        try (Socket s = RelJunk.tcp(from(allowed ? JUNK_CLIENT_NET : REFUSED_CLIENT_NET, 100 + k), port, 20_000)) {
            s.getOutputStream().write(Sha256.randomBytes(1 + new Random(k).nextInt(64 * 1024), 7000 + k));
            s.shutdownOutput();
            RelJunk.readToEnd(s, 1 << 20); // the service answers "unknown command" and closes
        } catch (IOException e) {
            // Refused or reset: fine.
        }
    }

    /** Junk on the control socket; the server must end each such connection, and keep answering others. */
    private void controlJunk(int k, Queue<String> problems) {
        String kind;
        try {
            SocketChannel ch = RelJunk.control(fixed.socket());
            switch (k % 4) {
                case 0 -> {
                    kind = "random bytes";
                    RelJunk.write(ch, Sha256.randomBytes(1 + new Random(k).nextInt(16 * 1024), 9000 + k));
                    ch.shutdownOutput();
                }
                case 1 -> {
                    kind = "a 100 KB line";
                    byte[] line = new byte[100 * 1024];
                    Arrays.fill(line, (byte) 'a');
                    RelJunk.write(ch, line);
                }
                case 2 -> {
                    kind = "a cut request";
                    RelJunk.write(ch, "list-tunn".getBytes(US_ASCII));
                    ch.shutdownOutput();
                }
                default -> {
                    kind = "200 bad requests";
                    StringBuilder b = new StringBuilder();
                    for (int i = 0; i < 50; i++) {
                        b.append("bogus\t0\t\n").append("addip-client\t0\tnot-an-address\n")
                                .append("kill-tunnel\t1\t99999999999999999999\n").append("list-tunnels\t7\tx\n");
                    }
                    RelJunk.write(ch, b.toString().getBytes(US_ASCII));
                    ch.shutdownOutput();
                }
            }
            if (!RelJunk.closedWithin(ch, Duration.ofSeconds(40), 1 << 20)) {
                problems.add("control socket, " + kind + ": not closed by the server within 40 s");
            }
            ch.close();
        } catch (IOException e) {
            // Reset while writing: the server closed it, fine.
        }
    }

    /** A v2 link through TLS that then sends a bad frame; the server must end the link. */
    private void v2FrameJunk(int k, Queue<String> problems) {
        String kind;
        // Under this much junk the server may refuse a handshake (its admission caps): try again.
        SSLSocket tls = null;
        IOException last = null;
        for (int attempt = 0; attempt < 3 && tls == null; attempt++) {
            try {
                tls = RelJunk.v2Tls(from(JUNK_TUNNEL_NET, 200 + k + 20 * attempt), fixed.port());
            } catch (IOException e) {
                last = e;
            }
        }
        if (tls == null) {
            problems.add("v2 junk " + k + ": no v2 handshake in 3 tries: " + last);
            return;
        }
        try {
            try {
                OutputStream out = tls.getOutputStream();
                switch (k % 5) {
                    case 0 -> {
                        kind = "an oversized HELLO frame";
                        out.write(RelJunk.frameHeader(0x02, 0xffff, 0));
                        out.write(Sha256.randomBytes(0xffff, k));
                    }
                    case 1 -> {
                        kind = "a cut frame header";
                        out.write(Arrays.copyOf(RelJunk.frameHeader(0x02, 80, 0), 3));
                        out.flush();
                        tls.shutdownOutput();
                    }
                    case 2 -> {
                        kind = "a HELLO of garbage";
                        out.write(RelJunk.frameHeader(0x02, 100, 0));
                        out.write(Sha256.randomBytes(100, k));
                    }
                    case 3 -> {
                        kind = "a frame of unknown type";
                        out.write(RelJunk.frameHeader(0x7f, 16, 0));
                        out.write(new byte[16]);
                    }
                    default -> {
                        kind = "DATA before HELLO";
                        out.write(RelJunk.frameHeader(0x11, 1000, 5));
                        out.write(Sha256.randomBytes(1000, k));
                    }
                }
                out.flush();
                String end = RelJunk.readToEnd(tls, 1 << 16);
                if (end.startsWith("open")) {
                    problems.add("v2 link, " + kind + ": still open after 15 s (" + end + ")");
                }
            } finally {
                tls.close();
            }
        } catch (IOException e) {
            // Reset while sending the bad frame: the server ended the link, as it should.
        }
    }

    /** Runs checked sessions through the real tunnel and control requests, until stopped. */
    private static final class Prober {
        final AtomicInteger ok = new AtomicInteger();
        final java.util.concurrent.atomic.AtomicLong slowestMs = new java.util.concurrent.atomic.AtomicLong();
        final Queue<String> errors = new ConcurrentLinkedQueue<>();
        final AtomicBoolean stop = new AtomicBoolean();
        Thread thread;

        static Prober start(RelServer fixed, int port) {
            Prober p = new Prober();
            p.thread = Thread.ofVirtual().name("prober").start(() -> {
                for (int i = 0; i < 10_000 && !p.stop.get(); i++) {
                    try {
                        long t0 = System.nanoTime();
                        RelLoad.echo(V2Fixture.CLIENT, port, 64 * 1024, 5000 + i, Duration.ofSeconds(20));
                        p.slowestMs.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), Math::max);
                        if (fixed.tunnels().stream().noneMatch(t -> t.port() == port)) {
                            p.errors.add("probe " + i + ": the real tunnel is not listed");
                        }
                        p.ok.incrementAndGet();
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    } catch (IOException | RuntimeException | AssertionError e) {
                        p.errors.add("probe " + i + ": " + e);
                    }
                }
            });
            return p;
        }

        void stop() throws InterruptedException {
            stop.set(true);
            thread.join(Duration.ofSeconds(30));
        }
    }
}
