package rtunnel.common.v2;

import java.io.IOException;
import java.io.InputStream;

import rtunnel.common.relay.LinkSocket;

/**
 * The busy link's reader: hands on consecutive DATA frames of one stream as one, as long as
 * their bytes have already arrived, so a stream's socket gets one write of up to 64 KiB where it
 * would get four of 16 KiB (fewer system calls and packets on both sides of that socket). It
 * never waits to gather: once nothing more is here, what it has goes on at once.
 */
final class FrameGather {
    /** One frame, or a run of one stream's DATA frames: {@code payload[0..length)}. */
    interface Sink {
        void frame(byte[] header, byte[] payload, int length) throws IOException;
    }

    static final int RUN = 4 * FrameIO.MAX_PAYLOAD;
    /** At most this many runs per call, so the reader's loop looks at its link between them. */
    static final int RUNS = 16;

    private final InputStream in;
    private final LinkSocket link;
    private byte[] header = new byte[FrameIO.HEADER];
    private byte[] next = new byte[FrameIO.HEADER];
    private byte[] buffer = new byte[RUN];
    /** The frame that ended a run; as large as a run, as it may become the next one's buffer. */
    private byte[] spare = new byte[RUN];
    private boolean ended;

    /** @param link the TCP socket beneath {@code in}, or null: then every frame goes on alone */
    FrameGather(InputStream in, LinkSocket link) {
        this.in = in;
        this.link = link;
    }

    /**
     * Reads the next frame (with the DATA frames of its stream that have arrived behind it) and
     * hands it to {@code sink}. A DATA frame of another stream that ends a run starts the next
     * run (many streams' batches of four frames then go on whole, not as one frame and three),
     * for at most {@link #RUNS} runs; any other frame that ends a run goes on alone. False at the
     * link's clean end.
     */
    boolean readTo(Sink sink) throws IOException {
        if (ended) {
            return false;
        }
        int length = FrameIO.readHeader(in, header);
        if (length < 0) {
            return false;
        }
        FrameIO.readPayload(in, buffer, 0, length);
        for (int runs = 1; link != null && FrameIO.type(header) == FrameType.DATA; runs++) {
            int ender = -1; // the length of the frame that ended the run, if one did
            while (length + FrameIO.MAX_PAYLOAD <= RUN && arrived()) {
                int n = FrameIO.readHeader(in, next);
                if (n < 0) {
                    ended = true;
                    break;
                }
                if (FrameIO.type(next) != FrameType.DATA || FrameIO.stream(next) != FrameIO.stream(header)) {
                    FrameIO.readPayload(in, spare, 0, n);
                    ender = n;
                    break;
                }
                FrameIO.readPayload(in, buffer, length, n);
                length += n;
            }
            sink.frame(header, buffer, length);
            if (ender < 0) {
                return true;
            }
            if (FrameIO.type(next) != FrameType.DATA || runs == RUNS) {
                sink.frame(next, spare, ender);
                return true;
            }
            swap();
            length = ender;
        }
        sink.frame(header, buffer, length);
        return true;
    }

    /** The frame that ended a run starts the next one. */
    private void swap() {
        byte[] h = header;
        header = next;
        next = h;
        byte[] b = buffer;
        buffer = spare;
        spare = b;
    }

    /** Whether a next frame header can be read without waiting for the network. */
    private boolean arrived() throws IOException {
        return in.available() >= FrameIO.HEADER || link.recordReady();
    }
}
