package rtunnel.common.v2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import rtunnel.common.relay.LinkSocket;

/** Many writers on one link over real loopback TCP: every write arrives whole and each writer's in order. */
class LinkWriterTest {
    private static final int WRITERS = 16;
    private static final int WRITES = 300;

    @Test
    @Timeout(60)
    void concurrentWritesArriveWholeAndInOrderPerWriter() throws Exception {
        try (ServerSocket l = LinkSocket.listener()) {
            l.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (LinkSocket raw = new LinkSocket(); ) {
                raw.connect(l.getLocalSocketAddress());
                try (Socket peer = l.accept()) {
                    peer.setSoTimeout(30_000); // a lost write fails the test instead of hanging it
                    raw.busy(true);
                    AtomicReference<String> failure = new AtomicReference<>();
                    LinkWriter w = new LinkWriter(raw.getOutputStream(), raw, "t", failure::set);
                    List<Thread> threads = new ArrayList<>();
                    for (int t = 0; t < WRITERS; t++) {
                        int id = t;
                        threads.add(Thread.ofPlatform().start(() -> {
                            byte[] buf = new byte[3 * (FrameIO.HEADER + FrameIO.MAX_PAYLOAD)];
                            try {
                                for (int seq = 0; seq < WRITES; seq++) {
                                    int len = 8 + (seq * 7919 + id * 131) % (buf.length - 8);
                                    record(buf, id, seq, len); // reused buffer, as a pump reuses its own
                                    w.write(buf, 0, len);
                                }
                            } catch (IOException e) {
                                failure.set(e.toString());
                            }
                        }));
                    }
                    DataInputStream in = new DataInputStream(peer.getInputStream());
                    int[] next = new int[WRITERS];
                    for (int i = 0; i < WRITERS * WRITES; i++) {
                        int len = in.readInt();
                        int id = in.readUnsignedShort();
                        int seq = in.readUnsignedShort();
                        assertEquals(next[id]++, seq, "writer " + id + "'s order");
                        byte[] body = in.readNBytes(len - 8);
                        for (int k = 0; k < body.length; k++) {
                            assertEquals((byte) (id + seq + k), body[k], "byte " + k + " of write " + id + "/" + seq);
                        }
                    }
                    for (Thread t : threads) {
                        t.join();
                    }
                    assertEquals(null, failure.get());
                }
            }
        }
    }

    @Test
    @Timeout(30)
    void aFailedLinkFailsTheWriteAndEndsTheLink() throws Exception {
        try (ServerSocket l = LinkSocket.listener()) {
            l.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            LinkSocket raw = new LinkSocket();
            raw.connect(l.getLocalSocketAddress());
            l.accept().close();
            AtomicReference<String> failure = new AtomicReference<>();
            LinkWriter w = new LinkWriter(raw.getOutputStream(), raw, "t", failure::set);
            raw.close();
            assertThrows(IOException.class, () -> w.write(new byte[100], 0, 100));
            assertTrue(failure.get() != null && failure.get().startsWith("write failed"), failure::get);
        }
    }

    /**
     * A link whose socket {@link LinkSocket#blockReads blocks} again after the JDK made it
     * non-blocking: a virtual thread's write there would wait in the kernel, holding its carrier
     * (one of two on a two-core machine) until the peer reads. LinkWriter hands such a write to a
     * platform thread and parks the virtual one. Without the hand-off the writer is found running
     * in the native write.
     */
    @Test
    @Timeout(30)
    void aVirtualWriterOnABlockingLinkWaitsParkedNotInTheKernel() throws Exception {
        try (ServerSocket l = LinkSocket.listener()) {
            l.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (LinkSocket raw = new LinkSocket(); Socket peer = connectPair(l, raw)) {
                raw.setSoTimeout(1); // a timed read: the JDK makes the socket non-blocking for good
                assertThrows(java.net.SocketTimeoutException.class, () -> raw.getInputStream().read());
                raw.setSoTimeout(0);
                assertTrue(raw.blockReads(true), "--add-opens for java.net and sun.nio.ch (surefire's argLine)");
                assertTrue(raw.readsBlock());
                AtomicReference<String> failure = new AtomicReference<>();
                LinkWriter w = new LinkWriter(raw.getOutputStream(), raw, "t", failure::set);
                AtomicReference<Throwable> ended = new AtomicReference<>();
                java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
                Thread writer = Thread.ofVirtual().start(() -> {
                    byte[] frame = new byte[FrameIO.HEADER + FrameIO.MAX_PAYLOAD];
                    try {
                        for (int i = 0; i < 100_000; i++) { // ~1.6 GB: the peer reads none of it
                            w.write(frame, 0, frame.length);
                        }
                    } catch (Throwable e) {
                        ended.set(e);
                    } finally {
                        done.countDown();
                    }
                });
                Thread.sleep(500); // the socket's buffers fill and the write waits
                assertEquals(1, done.getCount(), "the peer read nothing, so the writer waits");
                assertEquals(Thread.State.WAITING, writer.getState(),
                        () -> "parked, not in the kernel: " + java.util.Arrays.toString(writer.getStackTrace()));
                raw.close();
                assertTrue(done.await(10, java.util.concurrent.TimeUnit.SECONDS), "the close released the writer");
                assertTrue(ended.get() instanceof IOException, String.valueOf(ended.get()));
                writer.join();
                assertTrue(peer.isConnected());
            }
        }
    }

    /** A virtual thread's frames on a link kept blocking arrive whole and in order, through the platform thread. */
    @Test
    @Timeout(30)
    void aVirtualWriterOnALinkKeptBlockingIsHandedToAPlatformThread() throws Exception {
        try (ServerSocket l = LinkSocket.listener()) {
            l.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (LinkSocket raw = new LinkSocket(); Socket peer = connectPair(l, raw)) {
                raw.keepBlocking();
                peer.setSoTimeout(20_000);
                java.util.concurrent.atomic.AtomicInteger onVirtual = new java.util.concurrent.atomic.AtomicInteger();
                java.io.OutputStream out = new java.io.FilterOutputStream(raw.getOutputStream()) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        if (Thread.currentThread().isVirtual()) {
                            onVirtual.incrementAndGet();
                        }
                        this.out.write(b, off, len);
                    }
                };
                LinkWriter w = new LinkWriter(out, raw, "t", e -> { });
                AtomicReference<Throwable> failed = new AtomicReference<>();
                Thread writer = Thread.ofVirtual().start(() -> {
                    byte[] buf = new byte[40_000];
                    try {
                        for (int seq = 0; seq < 200; seq++) {
                            int len = 8 + seq * 97;
                            record(buf, 1, seq, len);
                            w.write(buf, 0, len);
                        }
                        w.tryWrite(new byte[] {0, 0, 0, 8, 0, 1, 0, (byte) 200}, 1000);
                    } catch (Throwable e) {
                        failed.set(e);
                    }
                });
                DataInputStream in = new DataInputStream(peer.getInputStream());
                for (int seq = 0; seq <= 200; seq++) {
                    int len = in.readInt();
                    assertEquals(1, in.readUnsignedShort());
                    assertEquals(seq, in.readUnsignedShort());
                    byte[] body = in.readNBytes(len - 8);
                    for (int k = 0; k < body.length; k++) {
                        assertEquals((byte) (1 + seq + k), body[k]);
                    }
                }
                writer.join();
                assertEquals(null, failed.get());
                assertEquals(0, onVirtual.get(), "writes to the socket made on a virtual thread");
            }
        }
    }

    private static Socket connectPair(ServerSocket l, LinkSocket raw) throws IOException {
        raw.connect(l.getLocalSocketAddress());
        return l.accept();
    }

    /** A write of {@code len} bytes: its length, writer, sequence number, then a checkable pattern. */
    private static void record(byte[] buf, int id, int seq, int len) {
        buf[0] = (byte) (len >>> 24);
        buf[1] = (byte) (len >>> 16);
        buf[2] = (byte) (len >>> 8);
        buf[3] = (byte) len;
        buf[4] = (byte) (id >>> 8);
        buf[5] = (byte) id;
        buf[6] = (byte) (seq >>> 8);
        buf[7] = (byte) seq;
        for (int k = 8; k < len; k++) {
            buf[k] = (byte) (id + seq + k - 8);
        }
    }
}
