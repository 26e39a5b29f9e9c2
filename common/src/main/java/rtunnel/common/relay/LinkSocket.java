package rtunnel.common.relay;

import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketImpl;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.LoggerFactory;

/**
 * The TCP socket beneath a TLS link, with fewer system calls while the link is busy. JSSE reads
 * each record in two exact reads (its 5-byte header, then its body) and writes each record with a
 * write of its own: two calls and a wake-up of the peer per 16 KiB. While {@linkplain #busy busy}
 * (a v2 link with live streams), reads go through a 64 KiB buffer, so one call takes whatever has
 * arrived, and a writer may {@linkplain #holdFlushes hold} JSSE's flushes to send several records
 * in one write. An idle link holds no buffer (thousands of idle tunnels stay small): reads and
 * writes pass straight through, and a buffer is dropped once empty.
 */
public final class LinkSocket extends Socket {
    static final int BUFFER = 64 * 1024;
    /** Four full records and their TLS overhead: what one batch of four DATA frames becomes. */
    static final int HELD = BUFFER + 4096;
    /** The largest TLS 1.3 record on the wire: 16 KiB of data and up to 256 bytes of expansion. */
    static final int LARGEST_RECORD = 5 + 16384 + 256;

    private LinkInput in;
    private HeldOutput out;
    private volatile boolean readsBlock;

    @Override
    public synchronized InputStream getInputStream() throws IOException {
        if (in == null) {
            in = new LinkInput(super.getInputStream());
        }
        return in;
    }

    @Override
    public synchronized OutputStream getOutputStream() throws IOException {
        if (out == null) {
            out = new HeldOutput(super.getOutputStream());
        }
        return out;
    }

    /** Called by the link's reader, on its own thread: buffers while busy, none once idle. */
    public void busy(boolean busy) throws IOException {
        ((LinkInput) getInputStream()).busy(busy);
        ((HeldOutput) getOutputStream()).busy(busy);
    }

    /**
     * Only the write side of {@link #busy}, from any thread: a writer that holds flushes chunk
     * after chunk keeps its buffer between them, while the reader (a v1 session's other
     * direction, perhaps silent) may not have called {@code busy} yet.
     */
    public void writeBusy(boolean busy) throws IOException {
        ((HeldOutput) getOutputStream()).busy(busy);
    }

    /**
     * From now until {@link #sendHeld()}, JSSE's per-record flushes are held and its records
     * gathered. Only once TLS is up: a handshake inside a held write would wait for the answer to
     * a message that never left.
     */
    public void holdFlushes() throws IOException {
        ((HeldOutput) getOutputStream()).hold();
    }

    /** Sends what was gathered since {@link #holdFlushes()} in one write (more only past 68 KiB). */
    public void sendHeld() throws IOException {
        ((HeldOutput) getOutputStream()).release();
    }

    /**
     * Puts the socket in blocking mode ({@code true}) or back in non-blocking mode. The JDK makes a
     * socket non-blocking for good once a virtual thread or a timeout has used it (every link:
     * handshakes have deadlines, idle readers are virtual), and a platform thread then reads it in
     * three calls when nothing is waiting: a read that finds nothing, a poll, the read. Blocking,
     * it is one read that waits in the kernel: two system calls fewer per hop of a round trip.
     * Only for a link's reader on a platform thread, and only while no virtual thread can write:
     * a virtual thread in a blocking write holds its carrier in the kernel until the peer reads.
     * Needs {@code --add-opens java.base/java.net} and {@code java.base/sun.nio.ch} (the
     * launchers give them); without them it changes nothing and returns false.
     */
    public boolean blockReads(boolean block) {
        boolean done = FdMode.set(this, block); // non-blocking before writers hear of it
        readsBlock = block && done;
        return done;
    }

    /**
     * For a socket no timed call and no virtual thread has used, so still blocking as the JDK made
     * it: it stays so for good. Its link's reader stays on a platform thread, and virtual threads
     * hand their writes to one ({@link #readsBlock}): a virtual thread's write would turn it
     * non-blocking (safely, but then each wait is three calls again).
     */
    public void keepBlocking() {
        readsBlock = true;
    }

    /** True while {@link #blockReads} or {@link #keepBlocking} has the socket blocking: virtual threads must not write. */
    public boolean readsBlock() {
        return readsBlock;
    }

    /**
     * True when a whole TLS record has arrived and is waiting in the busy link's buffer: JSSE
     * can read it without waiting for the network.
     */
    public boolean recordReady() throws IOException {
        return ((LinkInput) getInputStream()).recordReady();
    }

    /** A listening socket whose accepted connections are {@link LinkSocket}s. */
    public static ServerSocket listener() throws IOException {
        return new ServerSocket() {
            @Override
            public Socket accept() throws IOException {
                if (isClosed()) {
                    throw new SocketException("Socket is closed");
                }
                Socket s = new LinkSocket();
                implAccept(s);
                return s;
            }
        };
    }

    /** The blocking mode of a {@link Socket}'s file descriptor, through the JDK's own classes. */
    static final class FdMode {
        private static final Field IMPL;
        private static final Field DELEGATE;
        private static final Field FD;
        private static final Method CONFIGURE;

        static {
            Field impl = null;
            Field delegate = null;
            Field fd = null;
            Method configure = null;
            try {
                impl = Socket.class.getDeclaredField("impl");
                delegate = Class.forName("java.net.DelegatingSocketImpl").getDeclaredField("delegate");
                fd = SocketImpl.class.getDeclaredField("fd");
                configure = Class.forName("sun.nio.ch.IOUtil")
                        .getDeclaredMethod("configureBlocking", FileDescriptor.class, boolean.class);
                impl.setAccessible(true);
                delegate.setAccessible(true);
                fd.setAccessible(true);
                configure.setAccessible(true);
            } catch (ReflectiveOperationException | RuntimeException e) {
                LoggerFactory.getLogger(LinkSocket.class).debug("link reads stay non-blocking: {}", e.toString());
                configure = null;
            }
            IMPL = impl;
            DELEGATE = delegate;
            FD = fd;
            CONFIGURE = configure;
        }

        static boolean set(Socket s, boolean block) {
            if (CONFIGURE == null) {
                return false;
            }
            try {
                Object impl = IMPL.get(s);
                if (DELEGATE.getDeclaringClass().isInstance(impl)) {
                    impl = DELEGATE.get(impl);
                }
                FileDescriptor fd = (FileDescriptor) FD.get(impl);
                if (fd == null || !fd.valid()) {
                    return false;
                }
                CONFIGURE.invoke(null, fd, block);
                return true;
            } catch (ReflectiveOperationException | RuntimeException e) {
                return false; // closed meanwhile, or not a JDK socket: the mode stays as it was
            }
        }
    }

    /** One reader at a time (JSSE reads under its own lock). */
    private static final class LinkInput extends InputStream {
        private final InputStream in;
        private volatile boolean busy;
        private byte[] buf;
        private int pos;
        private int end;

        LinkInput(InputStream in) {
            this.in = in;
        }

        void busy(boolean b) {
            busy = b;
            if (!b && pos == end) {
                buf = null;
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (pos == end) {
                if (!busy || len >= BUFFER) {
                    buf = busy ? buf : null;
                    return in.read(b, off, len);
                }
                if (buf == null) {
                    buf = new byte[BUFFER];
                }
                int n = in.read(buf, 0, BUFFER);
                if (n <= 0) {
                    return n;
                }
                pos = 0;
                end = n;
            }
            int n = Math.min(len, end - pos);
            System.arraycopy(buf, pos, b, off, n);
            pos += n;
            return n;
        }

        /**
         * A record is a 5-byte header (type, version, length) and the length's bytes; those not
         * in the buffer yet may be waiting in the kernel, which is asked only when the buffer ends
         * inside a record (one more system call).
         */
        boolean recordReady() throws IOException {
            int have = end - pos;
            if (have == 0) {
                return false; // between bursts (an echo, a keystroke): no system call on the way
            }
            int need = have >= 5 ? 5 + (((buf[pos + 3] & 0xff) << 8) | (buf[pos + 4] & 0xff)) : LARGEST_RECORD;
            return have >= need || have + in.available() >= need;
        }

        @Override
        public int available() throws IOException {
            return end - pos + in.available();
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** Writes pass through unless held; held records go out together at the release. */
    private static final class HeldOutput extends OutputStream {
        private final OutputStream out;
        private final ReentrantLock lock = new ReentrantLock();
        private byte[] buf;
        private int count;
        private boolean holding;
        private boolean busy;

        HeldOutput(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            lock.lock();
            try {
                if (!holding) {
                    out.write(b, off, len);
                    return;
                }
                if (buf == null) {
                    buf = new byte[HELD];
                }
                if (len > HELD - count) {
                    drain();
                }
                if (len >= HELD) {
                    out.write(b, off, len);
                } else {
                    System.arraycopy(b, off, buf, count, len);
                    count += len;
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void flush() throws IOException {
            lock.lock();
            try {
                if (!holding) {
                    out.flush();
                }
            } finally {
                lock.unlock();
            }
        }

        void hold() {
            lock.lock();
            try {
                holding = true;
            } finally {
                lock.unlock();
            }
        }

        void release() throws IOException {
            lock.lock();
            try {
                holding = false;
                try {
                    drain();
                } finally {
                    buf = busy ? buf : null;
                }
            } finally {
                lock.unlock();
            }
        }

        void busy(boolean b) {
            lock.lock();
            try {
                busy = b;
                if (!b && !holding) {
                    buf = null;
                }
            } finally {
                lock.unlock();
            }
        }

        private void drain() throws IOException {
            if (count > 0) {
                int n = count;
                count = 0;
                out.write(buf, 0, n);
            }
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }
}
