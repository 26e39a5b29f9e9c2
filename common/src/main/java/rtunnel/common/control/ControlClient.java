package rtunnel.common.control;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;

import rtunnel.common.cli.RtunnelException;

/**
 * The client end: sends the requests in order over one connection and prints each answer.
 * Stops at the first refused request, so a script never acts on half a change unknowingly.
 */
public final class ControlClient {
    private static final int TIMEOUT_MS = 30_000;
    private static final int MAX_REPLY_LINES = 1_000_000;

    private ControlClient() {
    }

    /** Exit status 0 when every request succeeded, 1 at the first refusal (printed to {@code err}). */
    public static int run(Path socket, List<ControlRequest> requests, PrintStream out, PrintStream err)
            throws RtunnelException {
        SocketChannel s;
        try {
            s = SocketChannel.open(StandardProtocolFamily.UNIX);
            s.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw RtunnelException.failure("cannot connect to control socket " + socket + ": " + e.getMessage()
                    + " (is fixed_rtunnel running? as root the socket is /var/run/rtunnel.socket, "
                    + "with --notroot /tmp/rtunnel.socket, else give --socketname)", e);
        }
        // The JDK's own Unix-domain channel starts much faster than loading a native library; it has
        // no read timeout, so a daemon thread closes it if the server never answers.
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(TIMEOUT_MS);
                s.close();
            } catch (InterruptedException | IOException e) {
                // Done in time, or closing anyway.
            }
        }, "control-timeout");
        watchdog.setDaemon(true);
        watchdog.start();
        try (s) {
            InputStream in = new BufferedInputStream(Channels.newInputStream(s));
            OutputStream o = Channels.newOutputStream(s);
            for (ControlRequest r : requests) {
                ControlWire.writeLine(o, ControlWire.encode(r));
                o.flush();
                String head = ControlWire.readLine(in);
                if (head == null) {
                    throw RtunnelException.failure("the server closed the control connection without answering");
                }
                if (head.startsWith("error ")) {
                    throw RtunnelException.failure("--" + r.command().wireName() + ": " + head.substring(6));
                }
                int n = lineCount(head);
                for (int i = 0; i < n; i++) {
                    String line = ControlWire.readLine(in);
                    if (line == null) {
                        throw RtunnelException.failure("the server closed the control connection mid-answer");
                    }
                    out.println(line);
                }
                out.flush();
            }
            return RtunnelException.OK;
        } catch (java.nio.channels.AsynchronousCloseException e) {
            throw RtunnelException.failure("control socket " + socket + ": no answer within " + TIMEOUT_MS / 1000 + " s", e);
        } catch (IOException e) {
            throw RtunnelException.failure("control socket " + socket + ": " + e.getMessage(), e);
        } finally {
            watchdog.interrupt();
        }
    }

    private static int lineCount(String head) throws RtunnelException {
        try {
            int n = head.startsWith("ok ") ? Integer.parseInt(head.substring(3)) : -1;
            if (n >= 0 && n <= MAX_REPLY_LINES) {
                return n;
            }
        } catch (NumberFormatException e) {
            // Falls through to the error below.
        }
        throw RtunnelException.failure("unexpected answer on the control socket: " + ControlWire.clean(head));
    }
}
