package rtunnel.fixed;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The training run behind the launcher's ahead-of-time cache (scripts/launcher.sh): one whole
 * control command, {@code --list-tunnels}, against a stand-in server on a temporary socket in this
 * same JVM. A run against no server would teach the cache only the way to a refused connection,
 * and every real command would still load and link the rest of the client on each start. Not a
 * user command: it prints the answer to standard output and exits 0 when the client did.
 */
public final class ControlRehearsal {
    private static final int LINES = 100;

    private ControlRehearsal() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(rehearse());
    }

    /** Runs the command once; its exit status (0 when the client got the whole answer). */
    static int rehearse() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("rtunnel-rehearsal");
        Path socket = dir.resolve("control.socket");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread answer = Thread.ofPlatform().daemon(true).name("rehearsal-server").start(() -> answer(server));
            int status = QuickControl.tryRun(new String[] {"--socketname=" + socket, "--list-tunnels"}).orElse(2);
            answer.join(10_000);
            return status;
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    /** Answers one request line with a list of made-up tunnels, as the server would. */
    private static void answer(ServerSocketChannel server) {
        try (SocketChannel s = server.accept()) {
            InputStream in = Channels.newInputStream(s);
            while (in.read() > '\n') {
                // Up to the end of the request line.
            }
            StringBuilder reply = new StringBuilder("ok " + LINES + "\n");
            for (int i = 1; i <= LINES; i++) {
                reply.append("tunnel ").append(i).append(" 127.0.0.").append(i % 250 + 2)
                        .append(" port ").append(40000 + i).append('\n');
            }
            OutputStream out = Channels.newOutputStream(s);
            out.write(reply.toString().getBytes(StandardCharsets.US_ASCII));
            out.flush();
        } catch (IOException e) {
            // The client reports what it did not get.
        }
    }
}
