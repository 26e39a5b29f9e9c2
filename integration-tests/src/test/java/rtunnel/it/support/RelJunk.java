package rtunnel.it.support;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Hostile input for the listening surfaces of fixed_rtunnel: raw TCP connections from a chosen
 * address, a real TLS ClientHello to cut short, a TLS client that selects protocol v2 and then
 * sends bad frames, and raw connections to the control socket. Written from the documented wire
 * formats (docs/PROTOCOL.md), not the project's classes.
 */
public final class RelJunk {

    public static final byte[] GREETING = "TUNNEL01".getBytes(ISO_8859_1);
    /** The v2 frame header: type, flags, length (u16), stream id (u32). */
    public static final int FRAME_HEADER = 8;
    /** CHALLENGE: the server's 32-byte nonce on stream 0. */
    public static final int CHALLENGE_FRAME = FRAME_HEADER + 32;
    private static final int CONNECT_TIMEOUT_MS = 5000;

    private RelJunk() {
    }

    /** A TCP connection from {@code source} to 127.0.0.1:{@code port} with a read timeout. */
    public static Socket tcp(InetAddress source, int port, int readTimeoutMs) throws IOException {
        Socket s = new Socket();
        try {
            s.bind(new InetSocketAddress(source, 0));
            s.connect(new InetSocketAddress(FixedServer.LOCAL, port), CONNECT_TIMEOUT_MS);
            s.setSoTimeout(readTimeoutMs);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** The first flight of a real TLS 1.3/1.2 client: one ClientHello record. */
    public static byte[] clientHello() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new TrustAll()}, null);
            SSLEngine e = ctx.createSSLEngine();
            e.setUseClientMode(true);
            ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
            e.wrap(ByteBuffer.allocate(0), out);
            out.flip();
            byte[] b = new byte[out.remaining()];
            out.get(b);
            return b;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("JSSE cannot make a ClientHello", e);
        }
    }

    /**
     * Greets, runs a real TLS handshake offering ALPN {@code rtunnel/2} (protocol v2, server not
     * verified) and reads the server's CHALLENGE frame; the caller then sends what it likes.
     */
    public static SSLSocket v2Tls(InetAddress source, int port) throws IOException {
        Socket raw = tcp(source, port, 15_000);
        try {
            raw.getOutputStream().write(GREETING);
            byte[] answer = raw.getInputStream().readNBytes(GREETING.length);
            if (!Arrays.equals(GREETING, answer)) {
                throw new IOException("no TUNNEL01 answer: " + new String(answer, ISO_8859_1));
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new TrustAll()}, null);
            SSLSocket tls = (SSLSocket) ctx.getSocketFactory().createSocket(raw, null, port, true);
            SSLParameters p = tls.getSSLParameters();
            p.setApplicationProtocols(new String[] {"rtunnel/2"});
            p.setServerNames(List.of());
            tls.setSSLParameters(p);
            tls.startHandshake();
            if (!"rtunnel/2".equals(tls.getApplicationProtocol())) {
                throw new IOException("server did not select rtunnel/2: " + tls.getApplicationProtocol());
            }
            byte[] challenge = tls.getInputStream().readNBytes(CHALLENGE_FRAME);
            if (challenge.length != CHALLENGE_FRAME || challenge[0] != 0x01) {
                throw new IOException("expected a CHALLENGE frame, got " + challenge.length + " bytes");
            }
            return tls;
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            raw.close();
            throw e instanceof IOException io ? io : new IOException(e);
        }
    }

    /** A v2 frame header. */
    public static byte[] frameHeader(int type, int length, int stream) {
        return ByteBuffer.allocate(FRAME_HEADER).put((byte) type).put((byte) 0).putShort((short) length)
                .putInt(stream).array();
    }

    /**
     * Reads until the peer closes; returns how: {@code "eof"}, {@code "reset"}, or {@code "open"}
     * when the socket's read timeout passed with the connection still up. At most {@code max} bytes.
     */
    public static String readToEnd(Socket s, long max) {
        byte[] buf = new byte[16 * 1024];
        long total = 0;
        try {
            InputStream in = s.getInputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                total += n;
                if (total > max) {
                    return "open (sent more than " + max + " bytes)";
                }
            }
            return "eof";
        } catch (SocketTimeoutException e) {
            return "open";
        } catch (IOException e) {
            return "reset";
        }
    }

    /** A raw connection to the control socket at {@code path}. */
    public static SocketChannel control(Path path) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return ch;
    }

    /** Writes all of {@code b} to {@code ch}. */
    public static void write(SocketChannel ch, byte[] b) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Reads what the control socket answers until it closes (or {@code max} bytes); true if it closed. */
    public static boolean drainUntilClosed(SocketChannel ch, long max) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        long total = 0;
        while (total <= max) {
            buf.clear();
            int n = ch.read(buf);
            if (n < 0) {
                return true;
            }
            total += n;
        }
        return false;
    }

    /**
     * True if the control socket closes {@code ch} within {@code within} (answers read and
     * dropped, at most {@code max} bytes); otherwise closes it itself and returns false.
     */
    public static boolean closedWithin(SocketChannel ch, java.time.Duration within, long max) {
        boolean[] closed = new boolean[1];
        Thread t = Thread.ofVirtual().name("junk-drain").start(() -> {
            try {
                closed[0] = drainUntilClosed(ch, max);
            } catch (IOException e) {
                closed[0] = true; // reset by the server: closed as well
            }
        });
        try {
            if (!t.join(within)) {
                closeQuietly(ch);
                t.join(java.time.Duration.ofSeconds(5));
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(ch);
            return false;
        }
        return closed[0];
    }

    public static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // Best effort.
        }
    }

    /** Verifies nothing: the junk clients do not care who the server is. */
    private static final class TrustAll implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
