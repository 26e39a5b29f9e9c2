package rtunnel.common.relay;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import rtunnel.common.tls.ServerCredentials;
import rtunnel.common.tls.TlsContexts;

/**
 * For tests: a TLS link over real loopback TCP, both ends on {@link LinkSocket}s as in the
 * programs (a fresh key in {@code dir}, a trust-all client); no handshake yet.
 */
public record TlsLink(LinkSocket clientRaw, SSLSocket client, LinkSocket serverRaw, SSLSocket server)
        implements AutoCloseable {

    public static TlsLink open(Path dir) throws Exception {
        SSLContext context = TlsContexts.server(ServerCredentials.generate(dir.resolve("k"), dir.resolve("c"), "t"));
        try (ServerSocket l = LinkSocket.listener()) {
            l.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            LinkSocket raw = new LinkSocket();
            raw.connect(l.getLocalSocketAddress());
            SSLSocket client = TlsContexts.wrapClient(TlsContexts.trustAll(), raw, true);
            LinkSocket accepted = (LinkSocket) l.accept();
            return new TlsLink(raw, client, accepted, TlsContexts.wrapServer(context, accepted));
        }
    }

    @Override
    public void close() throws IOException {
        // The TCP sockets first, so closing TLS never waits on a peer.
        clientRaw.close();
        serverRaw.close();
        client.close();
        server.close();
    }

    /** The buffer a LinkSocket stream keeps ({@code buf}), or null: what tests check for holding or idling. */
    static Object buffer(Object stream) throws ReflectiveOperationException {
        Field f = stream.getClass().getDeclaredField("buf");
        f.setAccessible(true);
        return f.get(stream);
    }
}
