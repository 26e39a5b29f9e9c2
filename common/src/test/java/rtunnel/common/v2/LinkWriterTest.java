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
