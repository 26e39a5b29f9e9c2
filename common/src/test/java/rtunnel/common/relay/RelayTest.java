package rtunnel.common.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class RelayTest {
    @Test
    void pumpCopiesEverythingWithATinyBuffer() throws Exception {
        byte[] data = new byte[100_003];
        new Random(7).nextBytes(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AtomicLong counter = new AtomicLong();
        long n = Relay.pump(new ByteArrayInputStream(data), out, counter, 7);
        assertEquals(data.length, n);
        assertEquals(data.length, counter.get());
        assertArrayEquals(data, out.toByteArray());
    }

    @Test
    @Timeout(20)
    void bothWaysCarriesBytesAndClosesBothSidesWhenOneEnds() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocket left = new ServerSocket(0, 1, lo); ServerSocket right = new ServerSocket(0, 1, lo);
                Socket userA = new Socket(lo, left.getLocalPort());
                Socket userB = new Socket(lo, right.getLocalPort())) {
            Socket a = left.accept();
            Socket b = right.accept();
            AtomicLong aToB = new AtomicLong();
            AtomicLong bToA = new AtomicLong();
            Thread relay = Thread.ofVirtual().start(() -> {
                try {
                    Relay.bothWays(a, b, aToB, bToA, null, () -> {
                        Relay.closeQuietly(a);
                        Relay.closeQuietly(b);
                    });
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            byte[] data = new byte[1 << 20];
            new Random(1).nextBytes(data);
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    OutputStream o = userA.getOutputStream();
                    o.write(data);
                    o.flush();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            InputStream in = userB.getInputStream();
            byte[] got = in.readNBytes(data.length);
            writer.join();
            assertArrayEquals(data, got);
            userB.getOutputStream().write("pong".getBytes());
            assertArrayEquals("pong".getBytes(), userA.getInputStream().readNBytes(4));
            userA.close();
            relay.join(10_000);
            assertEquals(-1, in.read(), "the far side is closed when one end closes");
            assertEquals(data.length, aToB.get());
            assertEquals(4, bToA.get());
        }
    }

    /** A v1 session's writer to its TLS link: every byte arrives, each chunk's records leave held. */
    @Test
    @Timeout(30)
    void pumpToATlsLinkHoldsEachChunksRecordsAndCarriesEverything(@TempDir Path dir) throws Exception {
        byte[] data = new byte[3_000_001];
        new Random(9).nextBytes(data);
        try (TlsLink link = TlsLink.open(dir)) {
            LinkSocket raw = link.clientRaw();
            SSLSocket client = link.client();
            SSLSocket accepted = link.server();
            CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
                try {
                    return accepted.getInputStream().readNBytes(data.length);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            client.startHandshake();
            AtomicLong counter = new AtomicLong();
            Relay.pump(new ByteArrayInputStream(data), client.getOutputStream(), counter,
                    new byte[Relay.BUFFER_SIZE], raw);
            assertArrayEquals(data, got.get(20, TimeUnit.SECONDS));
            assertEquals(data.length, counter.get());
            assertNotNull(TlsLink.buffer(raw.getOutputStream()), "the writer held its records, in one kept buffer");
        }
    }

    /**
     * A v1 session's reader of its TLS link: records that have already arrived go out to the
     * local socket together, not one write per record (JSSE gives one record per read).
     */
    @Test
    @Timeout(30)
    void pumpFromATlsLinkWritesRecordsThatArrivedTogetherInOneWrite(@TempDir Path dir) throws Exception {
        byte[] data = new byte[4 * 16384];
        new Random(11).nextBytes(data);
        try (TlsLink link = TlsLink.open(dir)) {
            SSLSocket client = link.client();
            LinkSocket serverRaw = link.serverRaw();
            CompletableFuture<Void> hs = CompletableFuture.runAsync(() -> {
                try {
                    link.server().startHandshake();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            client.startHandshake();
            hs.get(10, TimeUnit.SECONDS);
            link.clientRaw().holdFlushes(); // four records in one TCP write: all there at the first read
            client.getOutputStream().write(data);
            link.clientRaw().sendHeld();
            client.shutdownOutput();
            serverRaw.busy(true); // as the session's reader does
            ByteArrayOutputStream sink = new ByteArrayOutputStream();
            int[] writes = new int[1];
            OutputStream counting = new OutputStream() {
                @Override
                public void write(int b) {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    writes[0]++;
                    sink.write(b, off, len);
                }
            };
            AtomicLong counter = new AtomicLong();
            Relay.pumpFromLink(link.server().getInputStream(), counting, counter, new byte[Relay.BUFFER_SIZE],
                    serverRaw);
            assertArrayEquals(data, sink.toByteArray());
            assertEquals(data.length, counter.get());
            assertEquals(1, writes[0], "writes for four records that arrived together");
        }
    }
}
