package rtunnel.common.daemon;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

import org.newsclub.net.unix.AFUNIXDatagramSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * Sends each line written to it as one syslog datagram (RFC 3164 form, daemon facility) to the
 * local syslog socket. The severity is read from our log level word at the start of the
 * line; continuation lines (stack traces) keep the severity of the line before them.
 */
final class SyslogStream extends OutputStream {
    private static final int FACILITY_DAEMON = 3;
    /** Longer lines are cut: many syslog daemons drop datagrams above a few KiB. */
    private static final int MAX_LINE = 2000;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss", Locale.ENGLISH);

    private final String tag;
    private final Path socketPath;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private AFUNIXDatagramSocket socket;
    private int severity = 6;

    SyslogStream(String program, Path socketPath) {
        this.tag = program + "[" + ProcessHandle.current().pid() + "]";
        this.socketPath = socketPath;
    }

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            send();
        } else if (line.size() < MAX_LINE) {
            line.write(b);
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            write(b[i]);
        }
    }

    private void send() {
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (text.isBlank()) {
            return;
        }
        severity = severityOf(text, severity);
        String msg = "<" + (FACILITY_DAEMON * 8 + severity) + ">" + LocalDateTime.now().format(STAMP) + " "
                + tag + ": " + text;
        byte[] bytes = msg.getBytes(StandardCharsets.UTF_8);
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                if (socket == null) {
                    socket = AFUNIXDatagramSocket.newInstance();
                    socket.connect(AFUNIXSocketAddress.of(socketPath));
                }
                socket.send(new DatagramPacket(bytes, bytes.length));
                return;
            } catch (IOException e) {
                // syslog may have restarted: reconnect once, then drop the line rather than block.
                closeSocket();
            }
        }
    }

    static int severityOf(String text, int previous) {
        if (text.startsWith("ERROR")) {
            return 3;
        } else if (text.startsWith("WARN")) {
            return 4;
        } else if (text.startsWith("INFO")) {
            return 6;
        } else if (text.startsWith("DEBUG") || text.startsWith("TRACE")) {
            return 7;
        }
        return previous;
    }

    private void closeSocket() {
        if (socket != null) {
            try {
                socket.close();
            } catch (RuntimeException ignored) {
                // Already broken.
            }
            socket = null;
        }
    }

    @Override
    public synchronized void close() {
        closeSocket();
    }
}
