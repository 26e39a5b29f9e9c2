package rtunnel.common.control;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

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
        AFUNIXSocket s;
        try {
            s = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(socket));
        } catch (IOException e) {
            throw RtunnelException.failure("cannot connect to control socket " + socket + ": " + e.getMessage()
                    + " (is fixed_rtunnel running? as root the socket is /var/run/rtunnel.socket, "
                    + "with --notroot /tmp/rtunnel.socket, else give --socketname)", e);
        }
        try (s) {
            s.setSoTimeout(TIMEOUT_MS);
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream o = s.getOutputStream();
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
        } catch (IOException e) {
            throw RtunnelException.failure("control socket " + socket + ": " + e.getMessage(), e);
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
