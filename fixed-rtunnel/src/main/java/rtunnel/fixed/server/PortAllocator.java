package rtunnel.fixed.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.ServerSocketChannel;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Hands out client ports: the one a peer asked for, else the last one its hostname had (when
 * free), else a random free one inside --client-ports, or one the system picks when no range
 * is set. A port is only "given" once it is bound, so two tunnels never get the same one.
 */
public final class PortAllocator {
    /** Why a request could not be met. */
    public static final class Refusal extends Exception {
        private final boolean outOfRange;

        Refusal(String message, boolean outOfRange) {
            super(message);
            this.outOfRange = outOfRange;
        }

        public boolean outOfRange() {
            return outOfRange;
        }
    }

    private final InetAddress bindAddress;
    private final int low;
    private final int high;
    /** Most recently used last; bounded, so peers cycling hostnames cannot grow it (or the state file) forever. */
    private static final int MAX_REMEMBERED = 10_000;
    private final Map<String, Integer> lastPort = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
                    return size() > MAX_REMEMBERED;
                }
            });
    private volatile Runnable onChange = () -> { };

    /** @param low first port of the range, or 0 for no range (then {@code high} is ignored) */
    public PortAllocator(InetAddress bindAddress, int low, int high) {
        this.bindAddress = bindAddress;
        this.low = low;
        this.high = high;
    }

    /** Binds a listening socket for a tunnel of {@code hostname}; {@code requested} 0 means any. */
    public ServerSocket bind(String hostname, int requested) throws Refusal {
        if (requested != 0) {
            if (!inRange(requested)) {
                throw new Refusal("port " + requested + " is outside the allowed range " + low + "-" + high, true);
            }
            ServerSocket s = tryBind(requested);
            if (s == null) {
                throw new Refusal("port " + requested + " is taken", false);
            }
            return remember(hostname, s);
        }
        Integer previous = lastPort.get(hostname);
        if (previous != null && inRange(previous)) {
            ServerSocket s = tryBind(previous);
            if (s != null) {
                return s;
            }
        }
        return remember(hostname, low == 0 ? bindAny() : bindInRange());
    }

    private ServerSocket remember(String hostname, ServerSocket s) {
        Integer before = lastPort.put(hostname, s.getLocalPort());
        if (before == null || before != s.getLocalPort()) {
            onChange.run();
        }
        return s;
    }

    /** Called after the sticky ports changed (to save them). */
    public void onChange(Runnable r) {
        onChange = r;
    }

    /** Sticky ports loaded from the state file. */
    public void restore(Map<String, Integer> ports) {
        lastPort.putAll(ports);
    }

    private ServerSocket bindAny() throws Refusal {
        ServerSocket s = tryBind(0);
        if (s == null) {
            throw new Refusal("no free port to bind on " + where(), false);
        }
        return s;
    }

    /** Walks the whole range once from a random start: bounded, and fair to every port. */
    private ServerSocket bindInRange() throws Refusal {
        int size = high - low + 1;
        int start = ThreadLocalRandom.current().nextInt(size);
        for (int i = 0; i < size; i++) {
            ServerSocket s = tryBind(low + (start + i) % size);
            if (s != null) {
                return s;
            }
        }
        throw new Refusal("every port in " + low + "-" + high + " is taken", false);
    }

    private ServerSocket tryBind(int port) {
        ServerSocket s = null;
        try {
            // Through a channel: the sessions it accepts then have channels, which lets the link's
            // reader write to them without blocking (MuxStream, direct mode).
            s = ServerSocketChannel.open().socket();
            s.bind(new InetSocketAddress(bindAddress, port), 50);
            return s;
        } catch (IOException e) {
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // never bound
                }
            }
            return null;
        }
    }

    private boolean inRange(int port) {
        return low == 0 || (port >= low && port <= high);
    }

    private String where() {
        return bindAddress == null ? "all addresses" : bindAddress.getHostAddress();
    }

    /** Sticky ports, for the state file. */
    public Map<String, Integer> lastPorts() {
        synchronized (lastPort) {
            return Map.copyOf(lastPort);
        }
    }
}
