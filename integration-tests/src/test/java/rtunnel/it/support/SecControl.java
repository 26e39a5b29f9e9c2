package rtunnel.it.support;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw client of the control socket's line protocol ({@code name TAB json TAB arg}, answered by
 * {@code ok N} and N lines or by {@code error MESSAGE}), for tests that need many requests on one
 * connection without a JVM start per request (the crash loop). Written against the documented wire
 * form, not the project's classes.
 */
public final class SecControl implements AutoCloseable {

    /** A request line is far shorter; an answer line longer than this means a broken stream. */
    private static final int MAX_LINE = 8192;
    /** No listing in these tests has more lines than this. */
    private static final int MAX_LINES = 100_000;

    private final SocketChannel channel;
    private final InputStream in;
    private final OutputStream out;

    private SecControl(SocketChannel channel) {
        this.channel = channel;
        this.in = Channels.newInputStream(channel);
        this.out = Channels.newOutputStream(channel);
    }

    /** The answer to one request. */
    public record Reply(boolean ok, List<String> lines) {
    }

    /** Connects to the control socket at {@code path}. */
    public static SecControl open(Path path) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new SecControl(ch);
    }

    /** Sends {@code command} (wire name, e.g. {@code addip-tunnel}) with {@code arg} (or null), reads the answer. */
    public Reply request(String command, String arg) throws IOException {
        out.write((command + "\t0\t" + (arg == null ? "" : arg) + "\n").getBytes(UTF_8));
        out.flush();
        String head = readLine();
        if (head.startsWith("error ")) {
            return new Reply(false, List.of(head.substring("error ".length())));
        }
        if (!head.matches("ok \\d{1,6}")) {
            throw new IOException("unexpected answer line from the control socket: " + head);
        }
        int n = Integer.parseInt(head.substring(3));
        if (n > MAX_LINES) {
            throw new IOException("control answer announces " + n + " lines");
        }
        List<String> lines = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            lines.add(readLine());
        }
        return new Reply(true, lines);
    }

    /** The addresses of a {@code list-allowed-*} answer ({@code IP: a [expires:...]} lines). */
    public List<String> addresses(String listCommand) throws IOException {
        Reply r = request(listCommand, null);
        if (!r.ok()) {
            throw new IOException(listCommand + " refused: " + r.lines());
        }
        List<String> out = new ArrayList<>();
        for (String l : r.lines()) {
            if (!l.startsWith("IP: ")) {
                throw new IOException("unexpected " + listCommand + " line: " + l);
            }
            out.add(l.substring(4).split(" ")[0]);
        }
        return out;
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i <= MAX_LINE; i++) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("control socket closed" + (b.size() > 0 ? " in the middle of a line" : ""));
            }
            if (c == '\n') {
                return b.toString(UTF_8);
            }
            b.write(c);
        }
        throw new IOException("control answer line longer than " + MAX_LINE + " bytes");
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
