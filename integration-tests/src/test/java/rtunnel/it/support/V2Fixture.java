package rtunnel.it.support;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Shared pieces of the protocol v2 tests: the loopback addresses that play the hosts, a fixed
 * server with its allowlists set, dynamic sides with their hostnames, client sockets and log
 * checks. Every wait here is bounded in time and in count.
 */
public final class V2Fixture {

    /** The fixed server and the local services. */
    public static final InetAddress LOCAL = FixedServer.LOCAL;
    /** The "remote box": dynamic_rtunnel dials from here. */
    public static final String DYNAMIC_HOST = "127.0.0.2";
    /** An allowed client on the fixed server's side. */
    public static final String CLIENT = "127.0.0.3";
    /** A second allowed client, the source the PROXY header must report. */
    public static final String PROXY_CLIENT = "127.0.0.4";
    public static final Duration TUNNEL_UP = Duration.ofSeconds(20);
    public static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    private V2Fixture() {
    }

    /** A fresh random password of {@code bytes} bytes, as hex. */
    public static String password(int bytes) {
        return HexFormat.of().formatHex(Sha256.randomBytes(bytes, new Random().nextLong()));
    }

    /**
     * Starts fixed_rtunnel with {@code extra} options and allows tunnels from
     * {@link #DYNAMIC_HOST} and clients from {@link #CLIENT} and {@link #PROXY_CLIENT}.
     */
    public static FixedServer startFixed(Path dir, String password, String... extra) {
        FixedServer f = FixedServer.start(dir, password, extra);
        try {
            assertEquals("IP: " + DYNAMIC_HOST + "\nIP: " + CLIENT + "\nIP: " + PROXY_CLIENT + "\n",
                    f.controlOk("--addip-tunnel=" + DYNAMIC_HOST, "--addip-client=" + CLIENT,
                            "--addip-client=" + PROXY_CLIENT));
        } catch (RuntimeException | AssertionError e) {
            f.close();
            throw e;
        }
        return f;
    }

    /** Starts a dynamic_rtunnel from {@link #DYNAMIC_HOST} named {@code hostname} exposing 127.0.0.1:{@code localPort}. */
    public static Procs startDynamic(FixedServer f, String hostname, int localPort, String... extra) {
        return startDynamic(f, hostname, localPort, Map.of(), extra);
    }

    /** As {@link #startDynamic(FixedServer, String, int, String...)}, with these environment variables added. */
    public static Procs startDynamic(FixedServer f, String hostname, int localPort, Map<String, String> env,
            String... extra) {
        List<String> args = new ArrayList<>(List.of("--source-ip=" + DYNAMIC_HOST, "--hostname=" + hostname,
                "--localport=" + localPort));
        args.addAll(List.of(extra));
        return f.startDynamic(env, args.toArray(String[]::new));
    }

    /** Waits for the tunnel named {@code hostname} to be listed with protocol 2. */
    public static FixedServer.Tunnel awaitV2(FixedServer f, String hostname) {
        return f.awaitTunnel(TUNNEL_UP, t -> t.hostname().equals(hostname) && t.protocol() == 2,
                "a protocol 2 tunnel for " + hostname);
    }

    /** The tunnels listed for {@code hostname}. */
    public static List<FixedServer.Tunnel> tunnelsOf(FixedServer f, String hostname) {
        return f.tunnels().stream().filter(t -> t.hostname().equals(hostname)).toList();
    }

    /** A TCP connection from {@code from} to 127.0.0.1:{@code port}, with a read timeout. */
    public static Socket connect(String from, int port) throws IOException {
        return EchoService.connectFrom(Launchers.addr(from), LOCAL, port, READ_TIMEOUT);
    }

    /** Sends {@code line} (a LF is added). */
    public static void send(Socket s, String line) throws IOException {
        s.getOutputStream().write((line + "\n").getBytes(US_ASCII));
        s.getOutputStream().flush();
    }

    /** One line from the socket (bounded). */
    public static String readLine(Socket s) throws IOException {
        return V2TestService.readLine(s.getInputStream(), 200);
    }

    /**
     * One ECHO session through {@code port} from {@link #CLIENT}: sends {@code text}, half-closes,
     * and checks the same bytes come back followed by end of stream.
     */
    public static void echoSession(int port, String text) throws IOException {
        try (Socket s = connect(CLIENT, port)) {
            send(s, "ECHO");
            byte[] msg = (text + "\n").getBytes(US_ASCII);
            s.getOutputStream().write(msg);
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            byte[] back = in.readAllBytes();
            assertEquals(text + "\n", new String(back, US_ASCII), "echo through port " + port);
        }
    }

    /**
     * One ECHO session through {@code port} from {@link #CLIENT} without a half-close (protocol 1
     * ends the whole session when one side ends its output): sends {@code text}, reads it back.
     */
    public static void echoLine(int port, String text) throws IOException {
        try (Socket s = connect(CLIENT, port)) {
            send(s, "ECHO");
            send(s, text);
            assertEquals(text, readLine(s), "echo through port " + port);
        }
    }

    /** Number of times {@code regex} matches in {@code text}. */
    public static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** Waits until the output of {@code p} matches {@code regex} somewhere. */
    public static void awaitLog(Procs p, Duration timeout, String regex, String what, FixedServer f) {
        Pattern pat = Pattern.compile(regex);
        try {
            Procs.waitFor(timeout, () -> pat.matcher(p.output()).find(), what);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + (f == null ? p.output() : f.describe()), e);
        }
    }

    /** Waits until {@code regex} matches at least {@code atLeast} times in the output of {@code p}. */
    public static void awaitLogCount(Procs p, Duration timeout, String regex, int atLeast, String what,
            FixedServer f) {
        try {
            Procs.waitFor(timeout, () -> count(p.output(), regex) >= atLeast, what);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + (f == null ? p.output() : f.describe()), e);
        }
    }

    /** Sends {@code signal} (for example STOP or CONT) to {@code pid} and its descendants with kill(1). */
    public static void signal(String signal, long pid) {
        List<String> cmd = new ArrayList<>(List.of("kill", "-" + signal, Long.toString(pid)));
        ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> cmd.add(Long.toString(d.pid()))));
        Procs.Result r = Procs.runToEnd(cmd, Duration.ofSeconds(10));
        if (r.exit() != 0) {
            throw new AssertionError("kill -" + signal + " " + pid + " failed: " + r);
        }
    }

    /** SIGKILL to {@code pid} and its descendants, waiting (bounded) until they are gone. */
    public static void killHard(Procs p) {
        ProcessHandle.of(p.pid()).ifPresent(h -> {
            List<ProcessHandle> all = new ArrayList<>(h.descendants().toList());
            all.add(0, h);
            all.forEach(ProcessHandle::destroyForcibly);
            Procs.waitFor(Duration.ofSeconds(10), () -> all.stream().noneMatch(ProcessHandle::isAlive),
                    p + " gone after SIGKILL");
        });
    }
}
