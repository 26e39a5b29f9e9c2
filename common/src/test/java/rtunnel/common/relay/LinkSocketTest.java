package rtunnel.common.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A link's socket over real loopback TCP: held records leave together, busy reads are buffered, idle holds nothing. */
class LinkSocketTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();

    @Test
    @Timeout(20)
    void heldWritesLeaveOnlyAtTheReleaseAndInOrder() throws Exception {
        try (ServerSocket l = LinkSocket.listener()) {
            l.bind(new InetSocketAddress(LO, 0));
            try (LinkSocket a = new LinkSocket()) {
                a.connect(l.getLocalSocketAddress());
                try (Socket b = l.accept()) {
                    byte[] data = new byte[3 * LinkSocket.HELD + 123];
                    new Random(1).nextBytes(data);
                    OutputStream out = a.getOutputStream();
                    a.holdFlushes();
                    out.write(data, 0, 100);
                    out.flush(); // JSSE flushes after every record: held
                    out.write(data, 100, 16_000);
                    out.flush();
                    Thread.sleep(100);
                    assertEquals(0, b.getInputStream().available(), "nothing leaves while held");
                    out.write(data, 16_100, data.length - 16_100); // past the buffer: goes on, in order
                    a.sendHeld();
                    assertArrayEquals(data, b.getInputStream().readNBytes(data.length));
                    out.write(data, 0, 10); // not held: straight through
                    assertArrayEquals(java.util.Arrays.copyOf(data, 10), b.getInputStream().readNBytes(10));
                }
            }
        }
    }

    @Test
    @Timeout(30)
    void tlsOverABusyLinkCarriesEverythingAndAnIdleOneKeepsNoBuffer(@TempDir Path dir) throws Exception {
        byte[] data = new byte[5_000_000];
        new Random(2).nextBytes(data);
        try (TlsLink link = TlsLink.open(dir)) {
            LinkSocket raw = link.clientRaw();
            LinkSocket acceptedRaw = link.serverRaw();
            SSLSocket client = link.client();
            SSLSocket accepted = link.server();
            CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
                try {
                    acceptedRaw.busy(true);
                    InputStream in = accepted.getInputStream();
                    byte[] back = new byte[data.length];
                    int at = 0;
                    int[] sizes = {8, 16_376, 5, 70_000, 1}; // frame headers, payloads, odd sizes
                    for (int i = 0; at < back.length; i++) {
                        int n = in.readNBytes(back, at, Math.min(sizes[i % sizes.length], back.length - at));
                        at += n;
                    }
                    acceptedRaw.busy(false);
                    return back;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            client.startHandshake(); // as the programs do before the link carries frames
            raw.busy(true);
            OutputStream out = client.getOutputStream();
            for (int off = 0; off < data.length; off += 65_536) {
                raw.holdFlushes();
                try {
                    out.write(data, off, Math.min(65_536, data.length - off));
                } finally {
                    raw.sendHeld();
                }
            }
            assertNotNull(TlsLink.buffer(raw.getOutputStream()), "a busy link keeps its write buffer");
            raw.busy(false);
            assertArrayEquals(data, got.get());
            assertNull(TlsLink.buffer(acceptedRaw.getInputStream()), "an idle link keeps no read buffer");
            assertNull(TlsLink.buffer(raw.getOutputStream()), "nor a write buffer");
        }
    }
}
