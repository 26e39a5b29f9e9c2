package rtunnel.common.v2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import rtunnel.common.relay.LinkSocket;
import rtunnel.common.relay.TlsLink;

/** The busy reader's runs of DATA, over a real TLS link on LinkSockets. */
class FrameGatherTest {
    private static final int MAX = FrameIO.MAX_PAYLOAD;

    /** What the sink got: type, stream, payload. */
    private record Got(FrameType type, int stream, byte[] payload) {
        @Override
        public String toString() {
            return type + "/" + stream + "/" + payload.length;
        }
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void arrivedDataOfOneStreamGoesOnAsOneRunAndEveryOtherFrameAlone(@TempDir Path dir) throws Exception {
        Random rnd = new Random(7);
        List<byte[]> first = new ArrayList<>();
        List<byte[]> second = new ArrayList<>();
        ByteArrayOutputStream s1 = new ByteArrayOutputStream();
        ByteArrayOutputStream s3 = new ByteArrayOutputStream();
        for (int i = 0; i < 3; i++) {
            first.add(data(1, MAX, rnd, s1));
        }
        first.add(data(2, 700, rnd, new ByteArrayOutputStream()));
        first.add(FrameIO.encode(FrameType.WINDOW, 1, new byte[] {0, 1, 0, 0}));
        first.add(data(1, 100, rnd, new ByteArrayOutputStream()));
        for (int i = 0; i < 5; i++) {
            second.add(data(3, i == 4 ? 9 : MAX, rnd, s3));
        }
        byte[] s3all = s3.toByteArray();
        List<Got> got = new ArrayList<>();
        withLink(dir, (out, raw, in, gather) -> {
            // Each batch whole beneath TLS before reading (a socket buffer holds ~120 KiB at first).
            for (List<byte[]> batch : List.of(first, second)) {
                long tlsBytes = in.available();
                raw.holdFlushes();
                for (byte[] f : batch) {
                    out.write(f);
                    tlsBytes += f.length + 22; // one record each: header 5, tag 16, content type 1
                }
                raw.sendHeld();
                awaitArrived(in, tlsBytes);
                int want = got.size() + (batch == first ? 4 : 2);
                for (int i = 0; i < 6 && got.size() < want; i++) {
                    assertTrue(gather.readTo((h, p, n) -> got.add(new Got(FrameIO.type(h), FrameIO.stream(h),
                            Arrays.copyOf(p, n)))));
                }
            }
        });
        assertEquals("[DATA/1/" + 3 * MAX + ", DATA/2/700, WINDOW/1/4, DATA/1/100, DATA/3/" + 4 * MAX
                + ", DATA/3/9]", got.toString());
        assertArrayEquals(s1.toByteArray(), got.get(0).payload());
        assertArrayEquals(Arrays.copyOf(s3all, 4 * MAX), got.get(4).payload());
        assertArrayEquals(Arrays.copyOfRange(s3all, 4 * MAX, s3all.length), got.get(5).payload());
    }

    /**
     * Streams' batches arrive one after another (as from a link's pump thread, four frames each):
     * a DATA frame that ends one stream's run starts the next stream's, so every batch goes on
     * whole. Handed on alone, it would shift every later batch into one frame and three.
     */
    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aDataFrameThatEndsARunStartsTheNext(@TempDir Path dir) throws Exception {
        Random rnd = new Random(9);
        List<byte[]> frames = new ArrayList<>();
        ByteArrayOutputStream s2 = new ByteArrayOutputStream();
        ByteArrayOutputStream s3 = new ByteArrayOutputStream();
        frames.add(data(1, 100, rnd, new ByteArrayOutputStream()));
        for (int i = 0; i < 4; i++) {
            frames.add(data(2, MAX, rnd, s2));
        }
        for (int i = 0; i < 2; i++) {
            frames.add(data(3, MAX, rnd, s3));
        }
        List<Got> got = new ArrayList<>();
        withLink(dir, (out, raw, in, gather) -> {
            long tlsBytes = in.available();
            raw.holdFlushes();
            for (byte[] f : frames) {
                out.write(f);
                tlsBytes += f.length + 22;
            }
            raw.sendHeld();
            awaitArrived(in, tlsBytes);
            for (int i = 0; i < 5 && got.size() < 3; i++) {
                assertTrue(gather.readTo((h, p, n) -> got.add(new Got(FrameIO.type(h), FrameIO.stream(h),
                        Arrays.copyOf(p, n)))));
            }
        });
        assertEquals("[DATA/1/100, DATA/2/" + 4 * MAX + ", DATA/3/" + 2 * MAX + "]", got.toString());
        assertArrayEquals(s2.toByteArray(), got.get(1).payload());
        assertArrayEquals(s3.toByteArray(), got.get(2).payload());
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aFrameGoesOnWithoutWaitingForTheNextOne(@TempDir Path dir) throws Exception {
        Random rnd = new Random(8);
        withLink(dir, (out, raw, in, gather) -> {
            out.write(data(1, MAX, rnd, new ByteArrayOutputStream()));
            out.flush();
            CompletableFuture<Integer> first = CompletableFuture.supplyAsync(() -> {
                int[] n = {-1};
                try {
                    gather.readTo((h, p, len) -> n[0] = len);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
                return n[0];
            });
            assertEquals(MAX, first.get(10, TimeUnit.SECONDS), "the first frame alone, while the next is not sent");
            out.write(data(1, 5, rnd, new ByteArrayOutputStream()));
            out.flush();
            int[] n = {-1};
            assertTrue(gather.readTo((h, p, len) -> n[0] = len));
            assertEquals(5, n[0]);
            raw.shutdownOutput();
            assertFalse(gather.readTo((h, p, len) -> { }), "the end of the link");
        });
    }

    private interface LinkTest {
        void run(OutputStream out, LinkSocket raw, InputStream in, FrameGather gather) throws Exception;
    }

    /** A TLS link over LinkSockets; the accepting end is busy and read through a FrameGather. */
    private static void withLink(Path dir, LinkTest test) throws Exception {
        try (TlsLink link = TlsLink.open(dir)) {
            CompletableFuture<Void> hs = CompletableFuture.runAsync(() -> {
                try {
                    link.server().startHandshake();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            link.client().startHandshake();
            hs.get(10, TimeUnit.SECONDS);
            link.clientRaw().busy(true);
            link.serverRaw().busy(true);
            test.run(link.client().getOutputStream(), link.clientRaw(), link.serverRaw().getInputStream(),
                    new FrameGather(link.server().getInputStream(), link.serverRaw()));
        }
    }

    /** Polls (bounded) until {@code n} bytes are readable beneath TLS. */
    private static void awaitArrived(InputStream raw, long n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (raw.available() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(raw.available() >= n, raw.available() + " of " + n + " bytes arrived");
    }

    private static byte[] data(int stream, int n, Random rnd, ByteArrayOutputStream all) {
        byte[] p = new byte[n];
        rnd.nextBytes(p);
        all.writeBytes(p);
        return FrameIO.encode(FrameType.DATA, stream, p);
    }
}
