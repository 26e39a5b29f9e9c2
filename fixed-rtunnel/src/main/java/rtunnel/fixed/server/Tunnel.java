package rtunnel.fixed.server;

import rtunnel.common.control.TunnelInfo;

/**
 * A live tunnel as the registry and the control socket see it, whatever its protocol: what every
 * tunnel has (its hostname, the id the registry gives it, the device key of its link) lives here.
 */
abstract class Tunnel {
    protected final String hostname;
    protected volatile long id;
    private volatile String device;

    protected Tunnel(String hostname) {
        this.hostname = hostname;
    }

    /** Called by the registry as the tunnel is listed. */
    final void assignId(long tunnelId) {
        this.id = tunnelId;
    }

    final long id() {
        return id;
    }

    final String hostname() {
        return hostname;
    }

    /** Records the device key the link presented (null: none). */
    final void device(String fingerprint) {
        device = fingerprint;
    }

    /** The SHA256:... of the device key its link presented, or null. */
    final String deviceFingerprint() {
        return device;
    }

    abstract int port();

    /** 1 or 2. */
    abstract int protocol();

    abstract TunnelInfo info();

    /** Serves until the tunnel ends; returns when every socket of it is closed. */
    abstract void run();

    /** Ends the tunnel from any thread. */
    abstract void close();
}
