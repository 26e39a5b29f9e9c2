package rtunnel.common.control;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The control socket's line protocol. A request is one line {@code name TAB json(0|1) TAB arg};
 * the answer is {@code ok N} followed by N lines, or one line {@code error MESSAGE}. Lines are
 * UTF-8 without control characters and at most {@link #MAX_LINE} bytes.
 */
final class ControlWire {
    static final int MAX_LINE = 4096;

    private ControlWire() {
    }

    static String encode(ControlRequest r) {
        return r.command().wireName() + "\t" + (r.json() ? "1" : "0") + "\t" + (r.argument() == null ? "" : clean(r.argument()))
                + (r.ttl() == null ? "" : "\t" + r.ttl().toSeconds());
    }

    /** Parses a request line; IllegalArgumentException names what was wrong. */
    static ControlRequest decode(String line) {
        String[] f = line.split("\t", -1);
        if (f.length < 3 || f.length > 4 || !(f[1].equals("0") || f[1].equals("1"))) {
            throw new IllegalArgumentException("malformed control request");
        }
        java.time.Duration ttl = null;
        if (f.length == 4) {
            if (!f[3].matches("[1-9][0-9]{0,9}")) {
                throw new IllegalArgumentException("malformed expiry in control request");
            }
            ttl = java.time.Duration.ofSeconds(Long.parseLong(f[3]));
        }
        ControlCommand c = ControlCommand.byWireName(f[0])
                .orElseThrow(() -> new IllegalArgumentException("unknown control request '" + clean(f[0]) + "'"));
        String arg = f[2].isEmpty() ? null : f[2];
        if (c.takesArgument() && arg == null) {
            throw new IllegalArgumentException(c.wireName() + " needs an argument");
        }
        if (ttl != null && c != ControlCommand.ADDIP_CLIENT && c != ControlCommand.ADDIP_TUNNEL) {
            throw new IllegalArgumentException("an expiry only goes with addip requests");
        }
        return new ControlRequest(c, c.takesArgument() ? arg : null, f[1].equals("1"), ttl);
    }

    /** One line, or null at a clean end of stream; BadLineException on an over-long or binary line. */
    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (true) {
            int c = in.read();
            if (c < 0) {
                if (b.size() == 0) {
                    return null;
                }
                throw new EOFException("connection closed in the middle of a line");
            }
            if (c == '\n') {
                return b.toString(StandardCharsets.UTF_8);
            }
            if (c < 0x20 && c != '\t') {
                throw new BadLineException("binary data on the control socket");
            }
            if (b.size() >= MAX_LINE) {
                throw new BadLineException("line longer than " + MAX_LINE + " bytes on the control socket");
            }
            b.write(c);
        }
    }

    /** The peer sent bytes that are not a request line; the connection cannot be resynchronised. */
    static final class BadLineException extends IOException {
        BadLineException(String message) {
            super(message);
        }
    }

    static void writeLine(OutputStream out, String line) throws IOException {
        out.write((clean(line) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Replaces control characters so one value can never become two lines. */
    static String clean(String s) {
        StringBuilder out = new StringBuilder(s.length());
        s.codePoints().forEach(c -> out.appendCodePoint(c < 0x20 && c != '\t' || c == 0x7f ? '?' : c));
        String r = out.toString();
        return r.length() > MAX_LINE / 2 ? r.substring(0, MAX_LINE / 2) : r;
    }
}
