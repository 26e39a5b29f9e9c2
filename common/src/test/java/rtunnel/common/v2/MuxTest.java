package rtunnel.common.v2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import rtunnel.common.relay.HotThreads;
import rtunnel.common.relay.LinkSocket;

/** Two Mux ends over a real loopback TCP connection; the "dynamic" end connects streams to a test service. */
class MuxTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private final List<AutoCloseable> closeMe = new ArrayList<>();
    private Mux fixedSide;
    private Mux dynamicSide;
    private ServerSocket clientPort;
    /** Sockets with channels (MuxStream's direct mode) or plain ones (its queued mode). */
    private boolean channels;
    @AfterEach
    void tearDown() throws Exception {
        if (fixedSide != null) {
            fixedSide.close("test over");
        }
        if (dynamicSide != null) {
            dynamicSide.close("test over");
        }
        for (AutoCloseable c : closeMe) {
            c.close();
        }
    }

    /** Starts a service, the two mux ends, and a client port whose connections become streams. */
    private void link(Consumer<Socket> service, Duration pingInterval, Duration pingTimeout) throws Exception {
        ServerSocket svc = service(service);
        ServerSocket linkListen = LinkSocket.listener(); // as both programs' links: batched while busy
        linkListen.bind(new InetSocketAddress(LO, 0), 1);
        closeMe.add(linkListen);
        Socket dyn = new LinkSocket();
        dyn.connect(linkListen.getLocalSocketAddress());
        Socket fix = linkListen.accept();
        closeMe.add(dyn);
        closeMe.add(fix);
        dynamicSide = new Mux(dyn, dyn.getInputStream(), dyn.getOutputStream(), connectingTo(svc), true,
                pingInterval, pingTimeout, "dyn");
        fixedSide = new Mux(fix, fix.getInputStream(), fix.getOutputStream(), new MuxListener() {
        }, false, pingInterval, pingTimeout, "fix");
        dynamicSide.start();
        fixedSide.start();
        clientPort = channels ? ServerSocketChannel.open().socket() : new ServerSocket();
        clientPort.bind(new InetSocketAddress(LO, 0), 50);
        closeMe.add(clientPort);
        Thread.ofVirtual().start(() -> {
            while (!clientPort.isClosed()) {
                try {
                    Socket c = clientPort.accept();
                    fixedSide.open(c, new OpenInfo((InetSocketAddress) c.getRemoteSocketAddress(),
                            (InetSocketAddress) c.getLocalSocketAddress()));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    /** A service on loopback serving each connection on a virtual thread of its own. */
    private ServerSocket service(Consumer<Socket> service) throws IOException {
        ServerSocket svc = new ServerSocket(0, 50, LO);
        closeMe.add(svc);
        Thread.ofVirtual().start(() -> {
            while (!svc.isClosed()) {
                try {
                    Socket s = svc.accept();
                    Thread.ofVirtual().start(() -> service.accept(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
        return svc;
    }

    /** The dynamic end's listener, as V2Link's: each stream the peer opens is attached to a connection to {@code svc}. */
    private MuxListener connectingTo(ServerSocket svc) {
        return new MuxListener() {
            @Override
            public void opened(Mux mux, MuxStream stream) {
                try {
                    Socket s = channels ? SocketChannel.open().socket() : new Socket();
                    s.connect(new InetSocketAddress(LO, svc.getLocalPort()));
                    stream.attach(s);
                } catch (IOException e) {
                    stream.abort(true);
                }
            }
        };
    }

    private static void echo(Socket s) {
        try (s) {
            s.getInputStream().transferTo(s.getOutputStream());
        } catch (IOException e) {
            // client gone
        }
    }

    private Socket client() throws IOException {
        Socket c = new Socket(LO, clientPort.getLocalPort());
        closeMe.add(c);
        return c;
    }

    @ParameterizedTest(name = "channels={0}")
    @ValueSource(booleans = {false, true})
    @Timeout(60)
    void manyConcurrentStreamsEchoTheirBytesIntact(boolean channels) throws Exception {
        this.channels = channels;
        link(MuxTest::echo, Duration.ofSeconds(20), Duration.ofSeconds(60));
        int streams = 12;
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int i = 0; i < streams; i++) {
            int seed = i;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    byte[] data = new byte[3_000_000 + seed];
                    new Random(seed).nextBytes(data);
                    Socket c = client();
                    Thread w = Thread.ofVirtual().start(() -> {
                        try {
                            c.getOutputStream().write(data);
                            c.shutdownOutput();
                        } catch (IOException e) {
                            failures.add(e);
                        }
                    });
                    byte[] back = c.getInputStream().readAllBytes();
                    w.join();
                    assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data),
                            MessageDigest.getInstance("SHA-256").digest(back));
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(failures.isEmpty(), failures.toString());
        assertTrue(fixedSide.bytesOut() >= streams * 3_000_000L);
    }

    /**
     * In direct mode every stream's socket-to-peer direction on one link is read by the link's one
     * pump thread ({@link PumpLoop}): with eight streams sending at once, each side has one
     * {@code -pumps} thread and no stream has an {@code -in} thread of its own.
     */
    @Test
    @Timeout(60)
    void directStreamsShareTheLinksPumpThread() throws Exception {
        channels = true;
        int streams = 8;
        byte[] reply = new byte[4_000_000];
        new Random(7).nextBytes(reply);
        CountDownLatch started = new CountDownLatch(streams);
        CountDownLatch counted = new CountDownLatch(1);
        link(s -> {
            try (s) {
                OutputStream o = s.getOutputStream();
                o.write(reply, 0, 1000);
                started.countDown();
                counted.await(); // every stream is live while the threads are counted
                o.write(reply, 1000, reply.length - 1000);
            } catch (IOException | InterruptedException e) {
                // client gone
            }
        }, Duration.ofSeconds(20), Duration.ofSeconds(60));
        List<Socket> clients = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            clients.add(client());
        }
        assertTrue(started.await(20, TimeUnit.SECONDS), "every service connection wrote");
        List<String> names = Thread.getAllStackTraces().keySet().stream().map(Thread::getName).toList();
        counted.countDown();
        List<Thread> readers = new ArrayList<>();
        byte[][] got = new byte[streams][];
        for (int i = 0; i < streams; i++) {
            int k = i;
            readers.add(Thread.ofVirtual().start(() -> {
                try {
                    got[k] = clients.get(k).getInputStream().readAllBytes();
                } catch (IOException e) {
                    got[k] = new byte[0];
                }
            }));
        }
        for (Thread t : readers) {
            t.join();
        }
        for (byte[] g : got) {
            assertArrayEquals(reply, g);
        }
        assertEquals(List.of(1L, 1L, 0L), List.of(names.stream().filter("dyn-pumps"::equals).count(),
                names.stream().filter("fix-pumps"::equals).count(),
                names.stream().filter(n -> n.endsWith("-in")).count()), "threads: " + names);
    }

    @ParameterizedTest(name = "channels={0}")
    @ValueSource(booleans = {false, true})
    @Timeout(30)
    void halfCloseReachesTheServiceWhichThenReplies(boolean channels) throws Exception {
        this.channels = channels;
        link(s -> {
            try (s) {
                byte[] all = s.getInputStream().readAllBytes();
                s.getOutputStream().write(("got " + all.length + " bytes").getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                // ignore
            }
        }, Duration.ofSeconds(20), Duration.ofSeconds(60));
        Socket c = client();
        c.getOutputStream().write(new byte[12345]);
        c.shutdownOutput();
        assertEquals("got 12345 bytes", new String(c.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
    }

    @ParameterizedTest(name = "channels={0}")
    @ValueSource(booleans = {false, true})
    @Timeout(60)
    void aStalledReaderDoesNotSlowAnotherStream(boolean channels) throws Exception {
        this.channels = channels;
        link(s -> {
            try (s) {
                byte[] buf = new byte[64 * 1024];
                OutputStream o = s.getOutputStream();
                for (int i = 0; i < 1600; i++) { // 100 MiB
                    o.write(buf);
                }
            } catch (IOException e) {
                // the stalled client is closed at the end of the test
            }
        }, Duration.ofSeconds(20), Duration.ofSeconds(60));
        Socket stalled = client(); // reads only at the end
        Thread.sleep(300);
        Socket reader = client();
        long t0 = System.nanoTime();
        long n = reader.getInputStream().transferTo(OutputStream.nullOutputStream());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(1600L * 64 * 1024, n);
        assertTrue(ms < 30_000, "100 MiB took " + ms + " ms beside a stalled stream");
        assertTrue(fixedSide.activeStreams() >= 1, "the stalled stream is still open");
        if (channels) {
            // Both readers run on platform threads, and the stalled stream holds a place on each side.
            assertTrue(HotThreads.inUse() >= 4, "platform threads in use: " + HotThreads.inUse());
        }
        assertTrue(!fixedSide.closed(), "the link is alive");
        // Once it reads, the stalled stream gets all of its bytes: its pump, stopped for want of
        // credit all this time, reads again as the credit comes back. (Its socket keeps its usual
        // buffer: with its receive buffer shrunk to 4 KiB after connecting, on loopback where a
        // segment is 64 KiB, its reads here stalled for minutes.)
        assertEquals(1600L * 64 * 1024, stalled.getInputStream().transferTo(OutputStream.nullOutputStream()));
    }

    @Test
    @Timeout(30)
    void aSilentPeerIsDroppedAfterTheTimeout() throws Exception {
        ServerSocket listen = new ServerSocket(0, 1, LO);
        closeMe.add(listen);
        Socket mute = new Socket(LO, listen.getLocalPort()); // never writes, never reads
        closeMe.add(mute);
        Socket s = listen.accept();
        closeMe.add(s);
        Closed closed = new Closed();
        fixedSide = new Mux(s, s.getInputStream(), s.getOutputStream(), closed, false, Duration.ofMillis(200),
                Duration.ofSeconds(1), "fix");
        long t0 = System.nanoTime();
        fixedSide.start();
        assertTrue(closed.down.await(10, TimeUnit.SECONDS));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 900 && ms < 5000, "dropped after " + ms + " ms");
        assertTrue(closed.why.contains("no word"), closed.why);
    }

    @ParameterizedTest(name = "channels={0}")
    @ValueSource(booleans = {false, true})
    @Timeout(30)
    void garbageFromThePeerEndsOnlyTheLink(boolean channels) throws Exception {
        this.channels = channels;
        link(MuxTest::echo, Duration.ofSeconds(20), Duration.ofSeconds(60));
        Socket c = client();
        c.getOutputStream().write("x".getBytes());
        assertEquals('x', c.getInputStream().read());
        // A frame type no version sends: the dynamic end must drop the link, not crash.
        fixedSide.sendRaw(new byte[] {0x7f, 0, 0, 0, 0, 0, 0, 0}, 0, 8);
        InputStream in = c.getInputStream();
        assertEquals(-1, in.read(), "the client's session ends with the link");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!dynamicSide.closed() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(dynamicSide.closed());
    }

    /**
     * RelRotationIT's finding: the server's GOAWAY let the dynamic end drain (half-close) before
     * its own retire sent GOAWAY; that late write failed and reset the link, and the server lost
     * the frames it had not read yet. After the half-close, late frames must not end the link.
     */
    @Test
    @Timeout(30)
    void framesAfterTheDrainingHalfCloseLeaveTheLinkToThePeer() throws Exception {
        Closed closed = new Closed();
        Socket server = handPlayedFixedEnd(closed);
        OutputStream toDyn = server.getOutputStream();
        InputStream fromDyn = server.getInputStream();
        FrameIO.write(toDyn, FrameType.GOAWAY, 0, new byte[0]); // the server retires the link first
        assertEquals(-1, fromDyn.read(), "an idle, promised link half-closes at once");
        dynamicSide.goAway(); // the dynamic side's own retire, just too late
        FrameIO.write(toDyn, FrameType.PING, 0, new byte[8]); // its PONG can no longer be sent
        assertTrue(!closed.down.await(500, TimeUnit.MILLISECONDS), "the link ended on its own: " + closed.why);
        server.shutdownOutput(); // the server has read everything: now the link ends
        assertTrue(closed.down.await(10, TimeUnit.SECONDS));
        assertEquals("drained", closed.why);
    }

    /**
     * A stream whose socket takes its first quarter window is granted 3 MiB more with its first
     * WINDOW frame, from the process's budget, which it gives back when it ends; with the budget
     * spent, a stream keeps the protocol's 1 MiB.
     */
    @Test
    @Timeout(30)
    void aBusyStreamIsGrantedMoreWindowWhileTheBudgetLasts() throws Exception {
        channels = true;
        ServerSocket svc = service(s -> {
            try (s) {
                s.getInputStream().transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                // reset with its stream
            }
        });
        Socket server = handPlayedFixedEnd(connectingTo(svc));
        OutputStream toDyn = server.getOutputStream();
        InputStream fromDyn = server.getInputStream();
        long before = ReceiveWindow.left();

        int sent = sendQuarterWindow(toDyn, 1);
        int credit = firstCredit(fromDyn, 1);
        assertTrue(credit > ReceiveWindow.EXTRA && credit - ReceiveWindow.EXTRA <= sent, "first credit " + credit);
        assertEquals(before - ReceiveWindow.EXTRA, ReceiveWindow.left());

        int spent = 0;
        while (ReceiveWindow.take()) {
            spent++;
        }
        try {
            sent = sendQuarterWindow(toDyn, 3);
            credit = firstCredit(fromDyn, 3);
            assertTrue(credit >= Mux.WINDOW / 4 - FrameIO.MAX_PAYLOAD && credit <= sent, "first credit " + credit);
        } finally {
            for (int i = 0; i < spent; i++) {
                ReceiveWindow.give();
            }
        }

        FrameIO.write(toDyn, FrameType.RESET, 1, new byte[] {0});
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (ReceiveWindow.left() != before && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(before, ReceiveWindow.left(), "the ended stream gave its extra window back");
    }

    /** Starts {@link #dynamicSide} over a plain TCP link whose fixed end the test plays: returns that end. */
    private Socket handPlayedFixedEnd(MuxListener listener) throws IOException {
        ServerSocket listen = new ServerSocket(0, 1, LO);
        closeMe.add(listen);
        Socket dyn = new Socket(LO, listen.getLocalPort());
        closeMe.add(dyn);
        Socket server = listen.accept();
        closeMe.add(server);
        server.setSoTimeout(10_000);
        dynamicSide = new Mux(dyn, dyn.getInputStream(), dyn.getOutputStream(), listener, true, Duration.ofSeconds(20),
                Duration.ofSeconds(60), "dyn");
        dynamicSide.start();
        return server;
    }

    /** Opens stream {@code id} and sends it DATA until a quarter window is out; returns the bytes sent. */
    private static int sendQuarterWindow(OutputStream toDyn, int id) throws IOException {
        FrameIO.write(toDyn, FrameType.OPEN, id,
                new OpenInfo(new InetSocketAddress(LO, 40000 + id), new InetSocketAddress(LO, 22)).encode());
        byte[] chunk = new byte[FrameIO.MAX_PAYLOAD];
        int sent = 0;
        while (sent < Mux.WINDOW / 4) {
            FrameIO.write(toDyn, FrameType.DATA, id, chunk);
            sent += chunk.length;
        }
        return sent;
    }

    /** The first WINDOW increment the dynamic end sends for stream {@code id}. */
    private static int firstCredit(InputStream fromDyn, int id) throws IOException {
        for (int i = 0; i < 100; i++) {
            Frame f = FrameIO.read(fromDyn);
            if (f.type() == FrameType.WINDOW && f.stream() == id) {
                return java.nio.ByteBuffer.wrap(f.payload()).getInt();
            }
        }
        throw new AssertionError("no WINDOW for stream " + id + " in 100 frames");
    }

    /** A listener that keeps why the link closed and counts down once it did. */
    private static final class Closed implements MuxListener {
        final CountDownLatch down = new CountDownLatch(1);
        volatile String why;

        @Override
        public void linkClosed(Mux mux, String reason) {
            why = reason;
            down.countDown();
        }
    }
}
