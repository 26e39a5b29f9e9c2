package rtunnel.common.v2;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.relay.HotThreads;
import rtunnel.common.relay.LinkSocket;

/**
 * Many streams over one v2 link (docs/PROTOCOL.md, "Streams" and "Liveness").
 *
 * <p>One reader thread decodes frames and never blocks on a write: DATA goes to the stream's
 * socket if it takes it at once, else into the stream's buffer, which the stream's window
 * guarantees has room; PONG, WINDOW and RESET answers are sent from other threads. Writers
 * share the link through its {@link LinkWriter}, a whole frame per write. A {@link Watchdog} pings
 * the peer and drops the link when nothing was heard for the timeout.
 */
public final class Mux {
    private static final Logger log = LoggerFactory.getLogger(Mux.class);
    /** Per-stream window: enough in flight for ~50 MB/s over a 20 ms link. */
    public static final int WINDOW = 1 << 20;
    /** How long a drained link waits for the peer to close after this side's half-close. */
    static final long DRAIN_DEADLINE_MILLIS = 5_000;
    /** A reader on a platform thread gives it back after the link has been this long without streams. */
    static final long COOL_NANOS = 2_000_000_000L;

    private final Socket raw;
    private final InputStream in;
    private final OutputStream out;
    private final MuxListener listener;
    private final boolean peerOpensStreams;
    private final Duration pingInterval;
    private final Duration pingTimeout;
    private final String label;
    private final LinkWriter writer;
    /** The thread that reads this link's direct-mode streams' sockets. */
    final PumpLoop pumps;
    private final Map<Integer, MuxStream> streams = new ConcurrentHashMap<>();
    private final AtomicInteger nextStream = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong bytesIn = new AtomicLong();
    private final AtomicLong bytesOut = new AtomicLong();
    private volatile long lastHeard = System.nanoTime();
    private volatile long lastStreamEnd = System.nanoTime();
    /** Server side: no more OPEN on this link (promised to the peer with GOAWAY). */
    private volatile boolean draining;
    /** Dynamic side: retire this link once idle and the server has promised no more OPEN. */
    private volatile boolean closeWhenIdle;
    private volatile boolean peerPromised;
    private final AtomicBoolean halfClosed = new AtomicBoolean();
    /** The link's socket is kept blocking ({@link LinkSocket#keepBlocking}): the reader never moves to a virtual thread. */
    private final boolean platformReader;

    /**
     * @param raw the TCP socket beneath {@code in}/{@code out}; closing it ends everything at once
     * @param peerOpensStreams true on the dynamic side, where OPEN frames are expected
     */
    public Mux(Socket raw, InputStream in, OutputStream out, MuxListener listener, boolean peerOpensStreams,
            Duration pingInterval, Duration pingTimeout, String label) {
        this.raw = raw;
        this.in = in;
        this.out = out;
        this.listener = listener;
        this.peerOpensStreams = peerOpensStreams;
        this.pingInterval = pingInterval;
        this.pingTimeout = pingTimeout;
        this.label = label;
        this.writer = new LinkWriter(out, raw, label, this::close);
        this.pumps = new PumpLoop(label);
        this.platformReader = raw instanceof LinkSocket l && l.readsBlock();
    }

    /** Starts the reader and the watchdog. */
    public void start() {
        if (platformReader) {
            Thread.ofPlatform().daemon(true).name(label + "-reader").start(() -> readLoop(false));
        } else {
            Thread.ofVirtual().name(label + "-reader").start(() -> readLoop(false));
        }
        Thread.ofVirtual().name(label + "-watchdog").start(
                () -> Watchdog.run(this, writer, pingInterval, pingTimeout));
    }

    /** Fixed side: opens a stream for an accepted client and starts relaying it at once. */
    public MuxStream open(Socket client, OpenInfo info) throws IOException {
        return open(client, info, new byte[0]);
    }

    /** As {@link #open(Socket, OpenInfo)}, with bytes already read from the client sent first. */
    public MuxStream open(Socket client, OpenInfo info, byte[] prefix) throws IOException {
        MuxStream s;
        // Under the write lock, so no OPEN can follow the GOAWAY that promised there would be none.
        s = writer.locked(() -> {
            if (draining || closed.get()) {
                throw new IOException("link " + label + " takes no new sessions");
            }
            int id = nextStream.getAndIncrement();
            MuxStream opened = new MuxStream(this, id, info);
            streams.put(id, opened);
            byte[] frame = FrameIO.encode(FrameType.OPEN, id, info.encode());
            writer.writeLocked(frame, 0, frame.length);
            return opened;
        });
        s.attach(client, prefix);
        return s;
    }

    /**
     * Reads frames until the link ends. An idle link's reader is a virtual thread (a few KB);
     * while streams are live it moves, between two frames, to a platform thread from
     * {@link HotThreads}, which is woken by the kernel directly and writes DATA straight to the
     * streams' sockets from a buffer it reuses; it moves back once the link has been without
     * streams for {@link #COOL_NANOS}. The platform reader makes the socket blocking (one read per
     * wake-up instead of three) as soon as it finds the write lock free, which is when no virtual
     * thread can be writing ({@link LinkSocket#blockReads}); the virtual one undoes that first.
     */
    private void readLoop(boolean hot) {
        String why = "peer closed the link";
        try {
            LinkSocket link = raw instanceof LinkSocket l ? l : null;
            if (link != null) {
                link.busy(hot); // fewer system calls while streams are live, no buffers while idle
                if (!hot && !platformReader) {
                    link.blockReads(false); // before a virtual thread reads, or writes
                }
            }
            FrameGather gather = hot ? new FrameGather(in, link) : null;
            boolean block = hot && link != null && !platformReader;
            while (true) {
                if (hot) {
                    if (block && writer.tryLocked(() -> link.blockReads(true))) {
                        block = false; // done, or not possible here: not tried again
                    }
                    if (!gather.readTo(this::hotFrame)) {
                        break;
                    }
                } else {
                    Frame f = FrameIO.read(in);
                    if (f == null) {
                        break;
                    }
                    lastHeard = System.nanoTime();
                    dispatch(f.type(), f.stream(), f.payload(), f.payload().length, true);
                }
                if (!(hot ? streams.isEmpty() && lastHeard - lastStreamEnd > COOL_NANOS : !streams.isEmpty())) {
                    continue;
                }
                if (platformReader) {
                    hot = !hot; // the same thread goes on, with buffers while streams are live
                    link.busy(hot);
                    gather = hot ? new FrameGather(in, link) : null;
                } else if (hot || HotThreads.tryAcquire()) {
                    // The next thread goes on at the next frame; nothing is buffered here.
                    if (hot) {
                        Thread.ofVirtual().name(label + "-reader").start(() -> readLoop(false));
                    } else {
                        HotThreads.startAcquired(label + "-reader", () -> readLoop(true));
                    }
                    return;
                }
            }
        } catch (IOException e) {
            why = closed.get() ? "closed" : e.getMessage();
        } catch (RuntimeException e) {
            why = "internal error: " + e;
            log.warn("{}: {}", label, why, e);
        }
        if (halfClosed.get()) {
            why = "drained";
        }
        close(why);
    }

    /** The hot reader's frame (or run of one stream's DATA), in its reused buffer. */
    private void hotFrame(byte[] header, byte[] payload, int length) throws IOException {
        lastHeard = System.nanoTime();
        dispatch(FrameIO.type(header), FrameIO.stream(header), payload, length, false);
    }

    /** One frame; {@code owned}: {@code payload} may be kept, else it is the reader's buffer. */
    private void dispatch(FrameType type, int stream, byte[] payload, int length, boolean owned) throws IOException {
        MuxStream s = stream == 0 ? null : streams.get(stream);
        switch (type) {
            case DATA -> {
                bytesIn.addAndGet(length);
                if (s != null) {
                    s.received(payload, length, owned);
                }
            }
            case WINDOW -> {
                if (s != null && length == 4) {
                    s.credit(ByteBuffer.wrap(payload, 0, 4).getInt());
                }
            }
            case FIN -> {
                if (s != null) {
                    s.remoteFin();
                }
            }
            case RESET -> {
                if (s != null) {
                    s.abort(false);
                }
            }
            case OPEN -> acceptOpen(stream, Arrays.copyOf(payload, length));
            case PING -> sendLater(FrameIO.encode(FrameType.PONG, 0, Arrays.copyOf(payload, length)));
            case PONG -> {
                // lastHeard is all a PONG is for.
            }
            case GOAWAY -> {
                if (peerOpensStreams) {
                    // The server promises no more OPEN here: once idle, this side closes the link.
                    peerPromised = true;
                    closeWhenIdle = true;
                    listener.goAway(this);
                    Thread.ofVirtual().start(this::drainIfIdle);
                } else {
                    // The dynamic side retires this link: promise it no more OPEN.
                    promise();
                    listener.goAway(this);
                }
            }
            default -> throw new ProtocolException(type + " after the handshake");
        }
    }

    private void acceptOpen(int id, byte[] payload) throws ProtocolException {
        if (!peerOpensStreams || id == 0 || streams.containsKey(id)) {
            throw new ProtocolException("unexpected OPEN for stream " + id);
        }
        MuxStream s = new MuxStream(this, id, OpenInfo.decode(payload));
        streams.put(id, s);
        HotThreads.start(label + "-open-" + id, () -> listener.opened(this, s));
    }

    /** Sends a whole frame built in {@code buf[off..off+len)}; a failure ends the link. */
    void sendRaw(byte[] buf, int off, int len) throws IOException {
        writer.write(buf, off, len);
    }

    void send(FrameType type, int stream, byte[] payload) throws IOException {
        byte[] frame = FrameIO.encode(type, stream, payload);
        sendRaw(frame, 0, frame.length);
    }

    /** Reader thread: sends {@code frame} from another thread ({@link LinkWriter#writeLater}). */
    void sendLater(byte[] frame) {
        writer.writeLater(frame);
    }

    void sendQuietly(FrameType type, int stream, byte[] payload) {
        try {
            send(type, stream, payload);
        } catch (IOException e) {
            // The link is closing; its streams are reset with it.
        }
    }

    void countOut(int n) {
        bytesOut.addAndGet(n);
    }

    void removed(MuxStream s) {
        lastStreamEnd = System.nanoTime();
        if (streams.remove(s.id(), s)) {
            listener.streamClosed(this, s);
        }
        drainIfIdle();
    }

    /** Dynamic side, on rotation: asks the server for no new streams here; closes once they are done. */
    public void goAway() {
        closeWhenIdle = true;
        sendQuietly(FrameType.GOAWAY, 0, new byte[0]);
        drainIfIdle();
    }

    /**
     * Retires the link. The fixed side promises the peer no more OPEN (GOAWAY) and leaves the
     * closing to the dynamic side; the dynamic side asks for that promise and closes once it
     * has it and the last stream has ended.
     */
    public void closeWhenIdle() {
        if (peerOpensStreams) {
            goAway();
        } else {
            promise();
        }
    }

    /** Fixed side: no more OPEN on this link, said once to the peer. */
    private void promise() {
        try {
            writer.locked(() -> {
                if (!draining && !closed.get()) {
                    draining = true;
                    byte[] frame = FrameIO.encode(FrameType.GOAWAY, 0, new byte[0]);
                    writer.writeLocked(frame, 0, frame.length);
                }
                return null;
            });
        } catch (IOException e) {
            // The link is closed already: writeLocked reported the failure.
        }
    }

    /**
     * Dynamic side: once retired, promised and idle, ends the link without losing a byte: this
     * side's last frames are flushed and followed by a TCP half-close, the peer reads them all,
     * sees the end and closes; a deadline covers a peer that never does. (Closing at once could
     * reset the connection with the peer's last frames unread, which throws away data in flight.)
     */
    private void drainIfIdle() {
        if (!peerOpensStreams || !closeWhenIdle || !peerPromised || !streams.isEmpty() || closed.get()) {
            return;
        }
        if (!halfClosed.compareAndSet(false, true)) {
            return;
        }
        try {
            writer.shutOutput(raw);
        } catch (IOException e) {
            close("drained");
            return;
        }
        Thread.ofVirtual().name(label + "-drain").start(() -> {
            try {
                Thread.sleep(DRAIN_DEADLINE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            close("drained");
        });
    }

    /** Ends the link and every stream on it; the first reason given is the one reported. */
    public void close(String why) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            raw.close();
        } catch (IOException ignored) {
            // Closing is best effort.
        }
        List<MuxStream> all = new ArrayList<>(streams.values());
        for (MuxStream s : all) {
            s.linkEnded();
        }
        listener.linkClosed(this, why);
    }

    public boolean closed() {
        return closed.get();
    }

    /** True once this link takes no new streams (retired by either side). */
    public boolean draining() {
        return draining || closeWhenIdle;
    }

    public int activeStreams() {
        return streams.size();
    }

    public long bytesIn() {
        return bytesIn.get();
    }

    public long bytesOut() {
        return bytesOut.get();
    }

    /** Nanoseconds since anything was heard from the peer. */
    public long silenceNanos() {
        return System.nanoTime() - lastHeard;
    }

    public String label() {
        return label;
    }
}
