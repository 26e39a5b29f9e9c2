package rtunnel.it.support;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local service behind a v2 tunnel in the protocol tests. Each connection may start with a
 * PROXY protocol header (when started with {@code expectProxy}); then the client sends one
 * command line:
 * <ul>
 * <li>{@code ECHO}: echo every byte until EOF, then half-close.</li>
 * <li>{@code STREAM n}: write {@link #pattern n bytes of the pattern}, then close.</li>
 * <li>{@code FLOOD}: write the pattern without end, until the connection fails (a client that
 * never reads stalls it); {@link #floodBytes()} counts what was written.</li>
 * <li>{@code HASH}: read to EOF, then answer {@code "<count> <sha256 hex>\n"} and close.</li>
 * <li>{@code EOFFIRST}: half-close at once, then read to EOF and put {@code "<count> <hex>"} in
 * {@link #received()}.</li>
 * </ul>
 * With {@code expectProxy} the service first answers one line {@code "PROXY v<version> <src ip>
 * <src port> <dst ip> <dst port>\n"}, or {@code "NOPROXY <why>\n"} and closes.
 */
public final class V2TestService implements AutoCloseable {

    /** Pattern chunk: big enough for fast writes, distinct per chunk (chunk index in its first 8 bytes). */
    public static final int CHUNK = 64 * 1024;
    private static final byte[] BASE = Sha256.randomBytes(CHUNK, 0x5eed2L);
    private static final byte[] V2_SIGNATURE = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
    /** Longest PROXY v1 line allowed by HAProxy's spec, CRLF included. */
    private static final int V1_MAX = 107;

    /** What a PROXY header said. */
    public record ProxyInfo(int version, String srcIp, int srcPort, String dstIp, int dstPort) {
    }

    private final ServerSocket listener;
    private final boolean expectProxy;
    private final AtomicLong floodBytes = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private final List<ProxyInfo> proxies = new CopyOnWriteArrayList<>();
    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    private final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private final Queue<Socket> open = new ConcurrentLinkedQueue<>();

    private V2TestService(ServerSocket listener, boolean expectProxy) {
        this.listener = listener;
        this.expectProxy = expectProxy;
    }

    /** Listens on {@code bind} and a free port. */
    public static V2TestService start(InetAddress bind, boolean expectProxy) throws IOException {
        V2TestService s = new V2TestService(new ServerSocket(0, 100, bind), expectProxy);
        Thread.ofVirtual().name("v2svc-accept").start(s::acceptLoop);
        return s;
    }

    public int port() {
        return listener.getLocalPort();
    }

    public long connections() {
        return connections.get();
    }

    /** Bytes written so far by FLOOD connections. */
    public long floodBytes() {
        return floodBytes.get();
    }

    /** Every PROXY header parsed, in order. */
    public List<ProxyInfo> proxies() {
        return List.copyOf(proxies);
    }

    /** What EOFFIRST connections received: {@code "<count> <hex>"}. */
    public BlockingQueue<String> received() {
        return received;
    }

    /** Unexpected failures in connections (a peer that just went away is not one). */
    public List<Throwable> errors() {
        return List.copyOf(errors);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                connections.incrementAndGet();
                open.add(s);
                Thread.ofVirtual().name("v2svc-conn").start(() -> serve(s));
            } catch (IOException e) {
                // Closed by close(); the loop ends.
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            if (expectProxy) {
                ProxyInfo p;
                try {
                    p = readProxy(in);
                } catch (IOException e) {
                    out.write(("NOPROXY " + e.getMessage().replace('\n', ' ') + "\n").getBytes(US_ASCII));
                    return;
                }
                proxies.add(p);
                out.write(("PROXY v" + p.version() + " " + p.srcIp() + " " + p.srcPort() + " " + p.dstIp() + " "
                        + p.dstPort() + "\n").getBytes(US_ASCII));
                out.flush();
            }
            String cmd = readLine(in, 100);
            if (cmd.equals("ECHO")) {
                in.transferTo(out);
                s.shutdownOutput();
            } else if (cmd.startsWith("STREAM ")) {
                writePattern(Long.parseLong(cmd.substring(7)), out, null);
            } else if (cmd.equals("FLOOD")) {
                writePattern(Long.MAX_VALUE, out, floodBytes);
            } else if (cmd.equals("HASH")) {
                out.write((hashToEnd(in) + "\n").getBytes(US_ASCII));
                out.flush();
                s.shutdownOutput();
                drainQuietly(in);
            } else if (cmd.equals("EOFFIRST")) {
                s.shutdownOutput();
                received.add(hashToEnd(in));
            } else {
                out.write(("unknown command: " + cmd + "\n").getBytes(US_ASCII));
            }
        } catch (IOException e) {
            // The client or the tunnel dropped the connection: that ends the session.
        } catch (RuntimeException e) {
            errors.add(e);
        } finally {
            open.remove(s);
        }
    }

    /** {@code "<count> <sha256 hex>"} of everything left in {@code in}. */
    public static String hashToEnd(InputStream in) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[64 * 1024];
        long count = 0;
        for (int n; (n = in.read(buf)) >= 0; ) {
            md.update(buf, 0, n);
            count += n;
        }
        return count + " " + HexFormat.of().formatHex(md.digest());
    }

    private static void drainQuietly(InputStream in) {
        try {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
            // Done either way.
        }
    }

    /**
     * Writes {@code n} bytes of the test pattern to {@code out} (null: nowhere), counting into
     * {@code counter} (null: no counting); returns the hex SHA-256 of what was written.
     */
    public static String writePattern(long n, OutputStream out, AtomicLong counter) throws IOException {
        MessageDigest md = sha256();
        byte[] chunk = BASE.clone();
        for (long k = 0, left = n; left > 0; k++) {
            ByteBuffer.wrap(chunk).putLong(0, k);
            int len = (int) Math.min(CHUNK, left);
            if (out != null) {
                out.write(chunk, 0, len);
            }
            md.update(chunk, 0, len);
            left -= len;
            if (counter != null) {
                counter.addAndGet(len);
            }
        }
        if (out != null) {
            out.flush();
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Hex SHA-256 of the first {@code n} bytes of the pattern. */
    public static String pattern(long n) {
        try {
            return writePattern(n, null, null);
        } catch (IOException e) {
            throw new IllegalStateException("no I/O without a stream", e);
        }
    }

    /** Reads one line ending in LF (CR before it dropped), at most {@code max} bytes; EOF first is an error. */
    public static String readLine(InputStream in, int max) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i <= max; i++) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("end of stream after \"" + b + "\" (no end of line)");
            }
            if (c == '\n') {
                int len = b.length();
                return len > 0 && b.charAt(len - 1) == '\r' ? b.substring(0, len - 1) : b.toString();
            }
            b.append((char) c);
        }
        throw new IOException("line longer than " + max + " bytes: " + b);
    }

    private static ProxyInfo readProxy(InputStream in) throws IOException {
        int first = in.read();
        if (first == 'P') {
            String line = "P" + readLine(in, V1_MAX - 1);
            String[] f = line.split(" ");
            if (f.length != 6 || !f[0].equals("PROXY") || !(f[1].equals("TCP4") || f[1].equals("TCP6"))) {
                throw new IOException("bad PROXY v1 line: " + line);
            }
            return new ProxyInfo(1, f[2], Integer.parseInt(f[4]), f[3], Integer.parseInt(f[5]));
        }
        if (first != V2_SIGNATURE[0]) {
            throw new IOException("no PROXY header: first byte " + first);
        }
        byte[] rest = in.readNBytes(15);
        if (rest.length != 15 || !Arrays.equals(rest, 0, 11, V2_SIGNATURE, 1, 12)) {
            throw new IOException("bad PROXY v2 signature");
        }
        int verCmd = rest[11] & 0xff;
        int fam = rest[12] & 0xff;
        int len = ((rest[13] & 0xff) << 8) | (rest[14] & 0xff);
        byte[] body = in.readNBytes(len);
        if (body.length != len) {
            throw new EOFException("PROXY v2 header cut short");
        }
        if (verCmd != 0x21) {
            throw new IOException("PROXY v2: version/command byte " + Integer.toHexString(verCmd));
        }
        int alen = switch (fam) {
            case 0x11 -> 4;
            case 0x21 -> 16;
            default -> throw new IOException("PROXY v2: family/protocol byte " + Integer.toHexString(fam));
        };
        if (len < 2 * alen + 4) {
            throw new IOException("PROXY v2: address block of " + len + " bytes");
        }
        ByteBuffer bb = ByteBuffer.wrap(body);
        byte[] src = new byte[alen];
        byte[] dst = new byte[alen];
        bb.get(src).get(dst);
        int sport = bb.getShort() & 0xffff;
        int dport = bb.getShort() & 0xffff;
        return new ProxyInfo(2, InetAddress.getByAddress(src).getHostAddress(), sport,
                InetAddress.getByAddress(dst).getHostAddress(), dport);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException e) {
                // Best effort.
            }
        }
    }
}
