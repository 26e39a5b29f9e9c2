package rtunnel.fixed.server;

import rtunnel.common.control.TunnelInfo;

/** A live tunnel as the registry and the control socket see it, whatever its protocol. */
interface Tunnel {
    /** Called by the registry as the tunnel is listed. */
    void assignId(long id);

    long id();

    String hostname();

    int port();

    /** 1 or 2. */
    int protocol();

    TunnelInfo info();

    /** Serves until the tunnel ends; returns when every socket of it is closed. */
    void run();

    /** Ends the tunnel from any thread. */
    void close();

    /** The SHA256:... of the device key its link presented, or null. */
    String deviceFingerprint();
}
