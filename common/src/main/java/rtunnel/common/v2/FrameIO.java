package rtunnel.common.v2;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Reads and writes v2 frames: an 8-byte header (type, flags, length, stream id, big-endian)
 * and at most {@link #MAX_PAYLOAD} bytes. Reads are bounded before anything is allocated.
 */
public final class FrameIO {
    public static final int HEADER = 8;
    /** Header plus payload fill at most one 16 KiB TLS record. */
    public static final int MAX_PAYLOAD = 16384 - HEADER;

    private FrameIO() {
    }

    /** The next frame, or null at a clean end of stream between frames. */
    public static Frame read(InputStream in) throws IOException {
        byte[] h = in.readNBytes(HEADER);
        if (h.length == 0) {
            return null;
        }
        if (h.length < HEADER) {
            throw new ProtocolException("link closed inside a frame header");
        }
        int length = checkedLength(h);
        byte[] payload = in.readNBytes(length);
        if (payload.length < length) {
            throw new ProtocolException("link closed inside a frame");
        }
        return new Frame(type(h), h[1] & 0xff, stream(h), payload);
    }

    /**
     * A frame's header into {@code header[0..8)}, checked. Returns the payload length that
     * follows, or -1 at a clean end of stream between frames.
     */
    public static int readHeader(InputStream in, byte[] header) throws IOException {
        int h = in.readNBytes(header, 0, HEADER);
        if (h == 0) {
            return -1;
        }
        if (h < HEADER) {
            throw new ProtocolException("link closed inside a frame header");
        }
        return checkedLength(header);
    }

    /** The {@code length} payload bytes after a header, into {@code buf[off..off+length)}. */
    public static void readPayload(InputStream in, byte[] buf, int off, int length) throws IOException {
        if (in.readNBytes(buf, off, length) < length) {
            throw new ProtocolException("link closed inside a frame");
        }
    }

    /** The payload length a header announces, once its type and length are known to be valid. */
    private static int checkedLength(byte[] h) throws ProtocolException {
        if (type(h) == null) {
            throw new ProtocolException("unknown frame type 0x" + Integer.toHexString(h[0] & 0xff));
        }
        int length = ((h[2] & 0xff) << 8) | (h[3] & 0xff);
        if (length > MAX_PAYLOAD) {
            throw new ProtocolException("frame of " + length + " bytes exceeds " + MAX_PAYLOAD);
        }
        return length;
    }

    /** The frame type in a header, or null for an unknown code. */
    public static FrameType type(byte[] h) {
        return FrameType.of(h[0]);
    }

    /** The stream id in a header. */
    public static int stream(byte[] h) {
        return ((h[4] & 0xff) << 24) | ((h[5] & 0xff) << 16) | ((h[6] & 0xff) << 8) | (h[7] & 0xff);
    }

    /** Writes the header for a payload of {@code length} bytes into {@code buf[0..8)}. */
    public static void header(byte[] buf, FrameType type, int flags, int stream, int length) {
        header(buf, 0, type, flags, stream, length);
    }

    /** As {@link #header(byte[], FrameType, int, int, int)}, at {@code buf[at..at+8)}. */
    public static void header(byte[] buf, int at, FrameType type, int flags, int stream, int length) {
        if (length < 0 || length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("payload length " + length);
        }
        buf[at] = (byte) type.code;
        buf[at + 1] = (byte) flags;
        buf[at + 2] = (byte) (length >>> 8);
        buf[at + 3] = (byte) length;
        buf[at + 4] = (byte) (stream >>> 24);
        buf[at + 5] = (byte) (stream >>> 16);
        buf[at + 6] = (byte) (stream >>> 8);
        buf[at + 7] = (byte) stream;
    }

    /** A whole frame as one array, so it goes out in one write (and one TLS record). */
    public static byte[] encode(FrameType type, int stream, byte[] payload) {
        byte[] buf = new byte[HEADER + payload.length];
        header(buf, type, 0, stream, payload.length);
        System.arraycopy(payload, 0, buf, HEADER, payload.length);
        return buf;
    }

    public static void write(OutputStream out, FrameType type, int stream, byte[] payload) throws IOException {
        out.write(encode(type, stream, payload));
        out.flush();
    }
}
