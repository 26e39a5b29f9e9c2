package rtunnel.common.relay;

import java.io.IOException;
import java.net.Socket;

import jdk.net.ExtendedSocketOptions;

/** Socket options every tunnel socket gets. */
public final class SocketTuning {
    /** Probe after a minute of silence, every 10 s, give up after 6: a dead peer is found in ~2 min. */
    private static final int KEEPALIVE_IDLE_SECONDS = 60;
    private static final int KEEPALIVE_INTERVAL_SECONDS = 10;
    private static final int KEEPALIVE_PROBES = 6;

    private SocketTuning() {
    }

    /**
     * TCP keepalive, so a peer that vanished without a FIN is noticed even while a session sits
     * idle, and no Nagle delay, because ssh keystrokes are tiny writes that must go out at once.
     */
    public static void tune(Socket s) {
        try {
            s.setTcpNoDelay(true);
            s.setKeepAlive(true);
            if (s.supportedOptions().contains(ExtendedSocketOptions.TCP_KEEPIDLE)) {
                s.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, KEEPALIVE_IDLE_SECONDS);
                s.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, KEEPALIVE_INTERVAL_SECONDS);
                s.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, KEEPALIVE_PROBES);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // Tuning is an optimisation; a socket that refuses it still works.
        }
    }
}
