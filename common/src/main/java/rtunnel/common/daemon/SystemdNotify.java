package rtunnel.common.daemon;

import java.io.IOException;
import java.net.DatagramPacket;
import java.nio.charset.StandardCharsets;

import org.newsclub.net.unix.AFUNIXDatagramSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

import rtunnel.common.cli.Unix;

/** sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET when the service is ready. */
public final class SystemdNotify {
    private SystemdNotify() {
    }

    /** Sends READY=1 if systemd (or a test) is listening; false when there is nobody to tell. */
    public static boolean ready() {
        String where = System.getenv("NOTIFY_SOCKET");
        if (where == null || where.isEmpty()) {
            return false;
        }
        byte[] msg = ("READY=1\nMAINPID=" + Unix.pid() + "\n").getBytes(StandardCharsets.UTF_8);
        try (AFUNIXDatagramSocket s = AFUNIXDatagramSocket.newInstance()) {
            AFUNIXSocketAddress to = where.startsWith("@")
                    ? AFUNIXSocketAddress.inAbstractNamespace(where.substring(1))
                    : AFUNIXSocketAddress.of(java.nio.file.Path.of(where));
            s.connect(to);
            s.send(new DatagramPacket(msg, msg.length));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
