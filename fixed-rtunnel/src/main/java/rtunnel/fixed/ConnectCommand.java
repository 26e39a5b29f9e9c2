package rtunnel.fixed;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import rtunnel.common.cli.RtunnelException;
import rtunnel.common.control.ControlClient;
import rtunnel.common.control.ControlCommand;
import rtunnel.common.control.ControlRequest;
import rtunnel.common.net.IpAddresses;

/**
 * Reaching a device by name: {@code --port-of=NAME} prints its tunnel's port, and
 * {@code --connect=NAME} relays stdin and stdout to it, for ssh's ProxyCommand:
 * {@code ssh -o ProxyCommand='fixed_rtunnel --connect=%h' cam1}.
 */
final class ConnectCommand {
    private static final Pattern LINE = Pattern.compile("^Tunnel: id:(\\d+) port:(\\d+) .*?hostname:(\\S+) .*");

    private ConnectCommand() {
    }

    /** The port of the newest live tunnel with this hostname. */
    static int portOf(Path socket, String hostname) throws RtunnelException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            ControlClient.run(socket, List.of(new ControlRequest(ControlCommand.LIST_TUNNELS, null, false)), out, System.err);
        }
        long bestId = -1;
        int port = -1;
        for (String line : buf.toString(StandardCharsets.UTF_8).split("\n")) {
            Matcher m = LINE.matcher(line);
            if (m.matches() && m.group(3).equals(hostname) && Long.parseLong(m.group(1)) > bestId) {
                bestId = Long.parseLong(m.group(1));
                port = Integer.parseInt(m.group(2));
            }
        }
        if (port < 0) {
            throw RtunnelException.failure("no live tunnel with hostname '" + hostname + "' (see --list-tunnels)");
        }
        return port;
    }

    /** Relays stdin/stdout to the tunnel's port until the far side closes. */
    static int connect(Path socket, String hostname, InetAddress clientInterface) throws RtunnelException {
        int port = portOf(socket, hostname);
        InetAddress to = clientInterface != null ? clientInterface : InetAddress.getLoopbackAddress();
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(to, port), 10_000);
        } catch (IOException e) {
            throw RtunnelException.failure("cannot connect to " + IpAddresses.format(to) + ":" + port + " (tunnel of "
                    + hostname + "): " + e.getMessage());
        }
        Thread up = Thread.ofPlatform().daemon(true).name("stdin").start(() -> {
            try (InputStream in = System.in) {
                copy(in, s.getOutputStream());
                s.shutdownOutput(); // stdin ended: half-close, the answer may still come
            } catch (IOException e) {
                closeQuietly(s);
            }
        });
        try {
            copy(s.getInputStream(), System.out);
        } catch (IOException e) {
            // The far side reset: the session is over either way.
        } finally {
            System.out.flush();
            closeQuietly(s);
            up.interrupt();
        }
        return RtunnelException.OK;
    }

    private static void copy(InputStream in, OutputStream out) throws IOException {
        byte[] b = new byte[64 * 1024];
        for (int n; (n = in.read(b)) >= 0; ) {
            out.write(b, 0, n);
            out.flush();
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
    }
}
