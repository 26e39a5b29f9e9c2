package rtunnel.dynamic;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import rtunnel.common.protocol.V1;
import rtunnel.common.relay.SocketTuning;
import rtunnel.common.tls.TlsContexts;
import rtunnel.common.v2.Frame;
import rtunnel.common.v2.FrameIO;
import rtunnel.common.v2.FrameType;
import rtunnel.common.v2.Handshake;
import rtunnel.common.v2.Mux;
import rtunnel.common.v2.MuxListener;
import rtunnel.common.v2.OpenInfo;
import rtunnel.common.v2.V2Auth;
import rtunnel.common.v2.V2Wire;

/**
 * The training run behind the launcher's ahead-of-time cache for dynamic_rtunnel's start
 * (scripts/launcher.sh, JDK 25+): one whole start, from the command line to a session that
 * reached the local service and came back, against a stand-in server and service in this same
 * JVM on loopback. The cache then holds the classes of option parsing, TLS, the v2 handshake and
 * the data path, loaded and linked, which takes about a third off every later start. Not a user
 * command: it exits 0 once the session's bytes came back, 1 on any failure or after 30 s.
 */
public final class DialRehearsal {
    private static final byte[] PASSWORD = new byte[16];
    private static final byte[] GREETING = "rehearsal".getBytes(StandardCharsets.US_ASCII);
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private DialRehearsal() {
    }

    public static void main(String[] args) throws Exception {
        Thread.ofPlatform().daemon(true).name("rehearsal-deadline").start(() -> {
            sleep(Duration.ofSeconds(30));
            Runtime.getRuntime().halt(1);
        });
        Path dir = Files.createTempDirectory("rtunnel-rehearsal");
        int status = 1;
        try (ServerSocket server = new ServerSocket(0, 1, LOOPBACK);
                ServerSocketChannel service = ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK, 0))) {
            SSLContext tls = serverContext(dir);
            Thread.ofPlatform().daemon(true).name("rehearsal-service").start(() -> echo(service));
            String[] options = {"--remoteip=127.0.0.1", "--remoteport=" + server.getLocalPort(), "--localip=127.0.0.1",
                "--localport=" + ((InetSocketAddress) service.getLocalAddress()).getPort(),
                "--password=" + HexFormat.of().formatHex(PASSWORD), "--insecure", "--hostname=rehearsal",
                "--alarm=0", "--notroot", "--foreground", "--log-level=info"};
            Thread.ofPlatform().daemon(true).name("rehearsal-client")
                    .start(() -> DynamicMain.run(options));
            status = serve(server, tls) ? 0 : 1;
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
        System.exit(status);
    }

    /** The fixed side of one link, then one session over it; true when the greeting came back. */
    private static boolean serve(ServerSocket server, SSLContext ctx) throws IOException {
        try (Socket raw = server.accept()) {
            SocketTuning.tune(raw);
            InputStream rawIn = raw.getInputStream();
            if (!Arrays.equals(rawIn.readNBytes(V1.MESSAGE_LENGTH), V1.MAGIC)) {
                return false;
            }
            raw.getOutputStream().write(V1.MAGIC);
            SSLSocket tls = TlsContexts.wrapServer(ctx, raw, V2Wire.ALPN);
            tls.startHandshake();
            InputStream in = tls.getInputStream();
            OutputStream out = tls.getOutputStream();
            byte[] serverNonce = V2Auth.nonce();
            FrameIO.write(out, FrameType.CHALLENGE, 0, new Handshake.Challenge(serverNonce).encode());
            Frame f = FrameIO.read(in);
            if (f == null || f.type() != FrameType.HELLO) {
                return false;
            }
            Handshake.Hello hello = Handshake.Hello.decode(f.payload());
            byte[] binding = V2Auth.channelBinding(tls.getSession().getLocalCertificates()[0]);
            try (ServerSocketChannel users = ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK, 0))) {
                int port = ((InetSocketAddress) users.getLocalAddress()).getPort();
                byte[] proof = V2Auth.serverMac(PASSWORD, binding, serverNonce, hello.nonce(), 1, port);
                Mux mux = new Mux(raw, in, out, new MuxListener() { }, false, V2Wire.DEFAULT_PING_INTERVAL,
                        V2Wire.DEFAULT_PING_TIMEOUT, "rehearsal");
                FrameIO.write(out, FrameType.WELCOME, 0, new Handshake.Welcome(1, port,
                        (int) V2Wire.DEFAULT_PING_INTERVAL.toSeconds(), (int) V2Wire.DEFAULT_PING_TIMEOUT.toSeconds(),
                        proof).encode());
                mux.start();
                try (SocketChannel user = SocketChannel.open(users.getLocalAddress());
                        SocketChannel admitted = users.accept()) {
                    mux.open(admitted.socket(), new OpenInfo((InetSocketAddress) admitted.getRemoteAddress(),
                            (InetSocketAddress) admitted.getLocalAddress()));
                    user.write(ByteBuffer.wrap(GREETING));
                    ByteBuffer back = ByteBuffer.allocate(GREETING.length);
                    while (back.hasRemaining() && user.read(back) >= 0) {
                        // Until the whole greeting is back.
                    }
                    return !back.hasRemaining() && Arrays.equals(back.array(), GREETING);
                } finally {
                    mux.close("rehearsal over");
                }
            }
        }
    }

    /**
     * The stand-in server's TLS: a throwaway Ed25519 key made by the JDK's keytool, as our
     * servers generate Ed25519 keys. Not with our own key generation, which uses BouncyCastle: the
     * cache would then hold classes that need BouncyCastle's signed jars, whose signatures the JVM
     * checks at every start that maps the cache (~100 ms), while a client start never needs them.
     */
    private static SSLContext serverContext(Path dir) throws IOException, GeneralSecurityException, InterruptedException {
        Path store = dir.resolve("rehearsal.p12");
        char[] pass = "rehearsal".toCharArray();
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "rehearsal", "-keyalg", "Ed25519", "-dname", "CN=rehearsal",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", new String(pass))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (keytool.waitFor() != 0) {
            throw new IOException("keytool failed with status " + keytool.exitValue());
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, pass);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pass);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
    }

    /** The local service: echoes each connection. */
    private static void echo(ServerSocketChannel service) {
        while (true) {
            try (SocketChannel c = service.accept()) {
                ByteBuffer b = ByteBuffer.allocate(4096);
                while (c.read(b) > 0) {
                    b.flip();
                    c.write(b);
                    b.clear();
                }
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
