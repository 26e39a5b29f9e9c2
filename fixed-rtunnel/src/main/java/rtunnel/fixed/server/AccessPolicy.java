package rtunnel.fixed.server;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicReference;

import rtunnel.common.net.Allowlist;

/**
 * Who may open a tunnel and who may use a tunnel's port. Both lists start empty, so nothing is
 * allowed until an operator adds it; the last refused address of each kind is kept for
 * --lastip-tunnel and --lastip-client. Every check reads the current list, so a change applies
 * at once to every tunnel, including tunnels already waiting for a client.
 */
public final class AccessPolicy {
    private final Allowlist tunnels = new Allowlist();
    private final Allowlist clients = new Allowlist();
    private final AtomicReference<InetAddress> lastTunnel = new AtomicReference<>();
    private final AtomicReference<InetAddress> lastClient = new AtomicReference<>();
    private final boolean sshOnly;

    public AccessPolicy(boolean sshOnly) {
        this.sshOnly = sshOnly;
    }

    /** --ssh-only: client sessions must start with an SSH identification line. */
    public boolean sshOnly() {
        return sshOnly;
    }

    public boolean admitTunnel(InetAddress peer) {
        return admit(tunnels, lastTunnel, peer);
    }

    public boolean admitClient(InetAddress peer) {
        return admit(clients, lastClient, peer);
    }

    private static boolean admit(Allowlist list, AtomicReference<InetAddress> last, InetAddress peer) {
        if (list.allows(peer)) {
            return true;
        }
        last.set(peer);
        return false;
    }

    public Allowlist tunnels() {
        return tunnels;
    }

    public Allowlist clients() {
        return clients;
    }

    /** The last refused tunnel address, or null. */
    public InetAddress lastTunnel() {
        return lastTunnel.get();
    }

    /** The last refused client address, or null. */
    public InetAddress lastClient() {
        return lastClient.get();
    }
}
