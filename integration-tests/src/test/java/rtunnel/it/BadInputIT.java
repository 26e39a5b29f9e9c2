package rtunnel.it;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import rtunnel.it.support.EchoService;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.Sha256;

/**
 * Acceptance 5 and 6: bad command lines and broken key files give one clear line and a non-zero
 * exit; garbage on the TLS port and on the control socket is dropped while the server keeps its
 * state and goes on serving a real tunnel.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadInputIT {

    /** A program that wrongly accepts its arguments runs on in the foreground: this bounds it. */
    private static final Duration RUN = Duration.ofSeconds(15);
    private static final String PASSWORD = "00112233deadbeef";

    @TempDir
    Path tmp;

    private FixedServer fixed;
    private EchoService service;
    private final List<Path> pidFiles = new ArrayList<>();

    @AfterEach
    void stopAll() throws IOException {
        // A server that wrongly started in the background wrote its pid file: stop it.
        pidFiles.forEach(p -> Procs.readPid(p).ifPresent(Procs::stopPid));
        if (fixed != null) {
            fixed.close();
        }
        if (service != null) {
            service.close();
        }
    }

    static Stream<Arguments> badCommandLines() {
        return Stream.of(
                Arguments.of("fixed", 2, List.of("--bogus")),
                Arguments.of("dynamic", 2, List.of("--remoteip=127.0.0.1", "--bogus")),
                Arguments.of("fixed", 2, List.of("--port=70000")),
                Arguments.of("fixed", 2, List.of("--port=-1")),
                Arguments.of("dynamic", 2, List.of("--remoteip=127.0.0.1", "--remoteport=70000")),
                Arguments.of("dynamic", 2, List.of("--remoteip=not.an.ip")),
                Arguments.of("dynamic", 2, List.of("--remoteip=999.1.1.1")),
                Arguments.of("dynamic", 2, List.of("--localport=22")),
                Arguments.of("fixed", 2, List.of("--clientinterface=not.an.ip")),
                Arguments.of("fixed", 2, List.of("--maxtunnels=many")),
                Arguments.of("fixed", 2, List.of("--password=123")),
                Arguments.of("fixed", 2, List.of("--password=zzzzzzzzzzzzzzzz")),
                Arguments.of("dynamic", 2, List.of("--remoteip=127.0.0.1", "--password=123")),
                Arguments.of("dynamic", 2, List.of("--remoteip=127.0.0.1", "--password=zzzzzzzzzzzzzzzz")),
                Arguments.of("fixed", 2, List.of("--addip-client=999.1.1.1")),
                Arguments.of("fixed", 2, List.of("--addip-tunnel=127.0.0.1/33")),
                Arguments.of("fixed", 2, List.of("--kill-tunnel=abc")));
    }

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("badCommandLines")
    void badCommandLineGivesOneLineAndExitStatus(String program, int exit, List<String> args) {
        List<String> cmd = new ArrayList<>();
        if (program.equals("fixed")) {
            // Everything pointed into the test directory and kept in the foreground, so a wrongly
            // accepted command line can do no harm and is stopped after RUN.
            cmd.addAll(List.of(Launchers.fixedRtunnel().toString(), "--debug", "--notroot",
                    "--socketname=" + tmp.resolve("ctl.sock"), "--keyfile=" + tmp.resolve("k"),
                    "--certfile=" + tmp.resolve("c"), "--statefile=" + tmp.resolve("state")));
        } else {
            cmd.addAll(List.of(Launchers.dynamicRtunnel().toString(), "--debug", "--notroot", "--remoteport=9",
                    "--known-servers=" + tmp.resolve("known_servers")));
        }
        cmd.addAll(args);
        Procs.Result r = Procs.runToEnd(cmd, RUN);
        assertOneLineError(program + "_rtunnel", r);
        assertEquals(exit, r.exit(), r::toString);
    }

    @Test
    void controlOptionWithoutARunningServerNamesTheSocket() {
        Path sock = tmp.resolve("nobody-here.sock");
        Procs.Result r = Procs.runToEnd(List.of(Launchers.fixedRtunnel().toString(), "--socketname=" + sock,
                "--list-tunnels"), RUN);
        assertOneLineError("fixed_rtunnel", r);
        assertEquals(1, r.exit(), r::toString);
        assertTrue(r.stderr().contains(sock.toString()), () -> "the message must name the socket: " + r);
    }

    @Test
    void brokenKeyFilesAreNamedInOneLine() throws IOException {
        Path good = tmp.resolve("good");
        Files.createDirectories(good);
        Procs.Result gen = Procs.runToEnd(List.of(Launchers.fixedRtunnel().toString(), "--generate-cert",
                "--keyfile=" + good.resolve("fixed.key"), "--certfile=" + good.resolve("fixed.cert")), RUN);
        assertEquals(0, gen.exit(), gen::toString);
        Path other = tmp.resolve("other");
        Files.createDirectories(other);
        Procs.Result gen2 = Procs.runToEnd(List.of(Launchers.fixedRtunnel().toString(), "--generate-cert",
                "--keyfile=" + other.resolve("fixed.key"), "--certfile=" + other.resolve("fixed.cert")), RUN);
        assertEquals(0, gen2.exit(), gen2::toString);
        String pem = Files.readString(good.resolve("fixed.key"), US_ASCII);
        Path cert = good.resolve("fixed.cert");

        Path garbage = Files.write(tmp.resolve("garbage.key"), Sha256.randomBytes(1000));
        Path cutShort = Files.writeString(tmp.resolve("cut-short.key"), pem.substring(0, pem.length() / 2));
        List<String> lines = pem.lines().toList();
        Path bodyCut = Files.writeString(tmp.resolve("body-cut.key"), lines.get(0) + "\n"
                + lines.get(1).substring(0, 20) + "\n" + lines.get(lines.size() - 1) + "\n");
        Path empty = Files.write(tmp.resolve("empty.key"), new byte[0]);
        Path garbageCert = Files.write(tmp.resolve("garbage.cert"), Sha256.randomBytes(500, 7));

        for (Path key : List.of(garbage, cutShort, bodyCut, empty)) {
            assertStartFails(key, cert, key);
        }
        assertStartFails(good.resolve("fixed.key"), garbageCert, garbageCert);
        assertStartFails(good.resolve("fixed.key"), tmp.resolve("missing.cert"), tmp.resolve("missing.cert"));
        // A key that does not belong to the certificate: name at least one of the two.
        assertStartFails(other.resolve("fixed.key"), cert, null);
    }

    /** Starting in the background (no --debug) must fail on the terminal with one line naming {@code named}. */
    private void assertStartFails(Path key, Path cert, Path named) {
        String tag = key.getFileName() + "+" + cert.getFileName();
        Path pidFile = tmp.resolve(tag + ".pid");
        pidFiles.add(pidFile);
        Procs.Result r = Procs.runToEnd(List.of(Launchers.fixedRtunnel().toString(), "--notroot",
                "--port=" + Launchers.freePort(FixedServer.LOCAL), "--socketname=" + tmp.resolve("k.sock"),
                "--keyfile=" + key, "--certfile=" + cert, "--statefile=" + tmp.resolve("state"),
                "--logfile=" + tmp.resolve(tag + ".log"),
                "--pidfile=" + pidFile), RUN);
        assertOneLineError("fixed_rtunnel", r);
        assertNotEquals(0, r.exit(), () -> tag + ": " + r);
        if (named != null) {
            assertTrue(r.stderr().contains(named.toString()), () -> "the message must name " + named + ": " + r);
        } else {
            assertTrue(r.stderr().contains(key.toString()) || r.stderr().contains(cert.toString()),
                    () -> "the message must name the key or the certificate: " + r);
        }
    }

    @Test
    void garbageOnTheTlsPortAndTheControlSocketIsDroppedAndTheServerGoesOn() throws Exception {
        service = EchoService.start(FixedServer.LOCAL, "BANNER\n".getBytes(US_ASCII));
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD);
        fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-client=127.0.0.3");
        String tunnelsBefore = fixed.controlOk("--list-allowed-tunnels");
        String clientsBefore = fixed.controlOk("--list-allowed-clients");

        byte[] hello = clientHello();
        byte[] halfHello = Arrays.copyOf(hello, hello.length / 2);
        byte[] greetingAndHalfHello = concat("TUNNEL01".getBytes(US_ASCII), halfHello);
        List<byte[]> tlsAttacks = List.of(
                Sha256.randomBytes(1000, 11),
                "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: it\r\n\r\n".getBytes(US_ASCII),
                halfHello,
                greetingAndHalfHello,
                concat("TUNNEL01".getBytes(US_ASCII), Sha256.randomBytes(1000, 12)));
        // All at once, each from the allowed tunnel address so the bytes reach the protocol code.
        List<Thread> attackers = new ArrayList<>();
        List<String> failures = new CopyOnWriteArrayList<>();
        for (byte[] attack : tlsAttacks) {
            attackers.add(Thread.ofVirtual().start(() -> {
                try (Socket s = EchoService.connectFrom(Launchers.addr("127.0.0.2"), FixedServer.LOCAL, fixed.port(),
                        Duration.ofSeconds(25))) {
                    try {
                        s.getOutputStream().write(attack);
                    } catch (IOException e) {
                        return; // closed already: dropped
                    }
                    String err = drainToEnd(s.getInputStream());
                    if (err != null) {
                        failures.add(err + " after " + new String(attack, 0, Math.min(20, attack.length), ISO_8859_1));
                    }
                } catch (IOException e) {
                    failures.add("could not connect: " + e);
                }
            }));
        }
        // The original's refusal path too: an address not allowed.
        try (Socket s = EchoService.connectFrom(Launchers.addr("127.0.0.9"), FixedServer.LOCAL, fixed.port(),
                Duration.ofSeconds(5))) {
            String err = drainToEnd(s.getInputStream());
            assertEquals(null, err, "a tunnel connection from an address not allowed is closed at once");
        }

        // Control socket: garbage lines, binary bytes, an over-long line; none of them a valid request.
        List<byte[]> controlAttacks = List.of(
                "hello\nlist-tunnels\nkill-tunnel\t0\t\naddip-client\t0\t999.1.1.1\n"
                        .getBytes(US_ASCII),
                "delip-client\t0\t\n\n\t\t\t\naddip-client\t0\t127.0.0.4\t\n".getBytes(US_ASCII),
                Sha256.randomBytes(4096, 13),
                concat("addip-client\t0\t".getBytes(US_ASCII), "9".repeat(200_000).getBytes(US_ASCII), new byte[] {'\n'}));
        for (byte[] attack : controlAttacks) {
            controlRaw(fixed.socket(), attack);
        }

        for (Thread t : attackers) {
            assertTrue(t.join(Duration.ofSeconds(30)), "attacker finished");
        }
        assertEquals(List.of(), failures, () -> "every garbage connection must be dropped\n" + fixed.describe());

        assertTrue(fixed.isAlive(), fixed::describe);
        assertEquals(tunnelsBefore, fixed.controlOk("--list-allowed-tunnels"));
        assertEquals(clientsBefore, fixed.controlOk("--list-allowed-clients"));
        assertEquals("IP: 127.0.0.9\n", fixed.controlOk("--lastip-tunnel"));
        assertEquals(List.of(), fixed.tunnels(), "garbage made no tunnel");

        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=stillok");
        Tunnel t = fixed.awaitTunnel(Duration.ofSeconds(20), x -> x.hostname().equals("stillok"), "a real tunnel");
        try (Socket c = EchoService.connectFrom(Launchers.addr("127.0.0.3"), FixedServer.LOCAL, t.port(),
                Duration.ofSeconds(10))) {
            assertEquals("BANNER\n", new String(c.getInputStream().readNBytes(7), US_ASCII), fixed::describe);
        }
        String log = fixed.log();
        assertFalse(log.contains(" ERROR ") || log.contains("\tat "),
                () -> "bad input is routine, not an internal error:\n" + log);
    }

    /** Null once the server closed the connection; otherwise what went wrong. */
    private static String drainToEnd(InputStream in) {
        byte[] buf = new byte[4096];
        int total = 0;
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                total += n;
                if (total > 1_000_000) {
                    return "the server kept talking (" + total + " bytes)";
                }
            }
            return null;
        } catch (SocketTimeoutException e) {
            return "the server neither closed nor dropped the connection within its timeout";
        } catch (SocketException e) {
            return null; // reset: dropped
        } catch (IOException e) {
            return "read failed: " + e;
        }
    }

    /** Sends {@code bytes} to the control socket, then reads whatever comes for up to 3 s. */
    private static String controlRaw(Path socket, byte[] bytes) throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            Thread io = Thread.ofVirtual().start(() -> {
                try {
                    ByteBuffer out = ByteBuffer.wrap(bytes);
                    while (out.hasRemaining()) {
                        ch.write(out);
                    }
                    ByteBuffer in = ByteBuffer.allocate(8192);
                    while (ch.read(in) >= 0) {
                        synchronized (got) {
                            got.write(in.array(), 0, in.position());
                        }
                        in.clear();
                    }
                } catch (IOException e) {
                    // The server dropped us (or we closed after the wait): either is fine here.
                }
            });
            io.join(Duration.ofSeconds(3));
            ch.close();
            io.join(Duration.ofSeconds(2));
            synchronized (got) {
                return got.toString(ISO_8859_1);
            }
        }
    }

    /** The first flight of a TLS client, as any JSSE client would send it. */
    private static byte[] clientHello() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, null, null);
        SSLEngine e = ctx.createSSLEngine();
        e.setUseClientMode(true);
        e.beginHandshake();
        ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
        e.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] b = new byte[out.remaining()];
        out.get(b);
        assertTrue(b.length > 50 && b[0] == 0x16, "a TLS handshake record");
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    private static void assertOneLineError(String program, Procs.Result r) {
        String err = r.stderr();
        List<String> lines = err.lines().toList();
        assertEquals(1, lines.size(), () -> "exactly one line on stderr expected: " + r);
        assertTrue(lines.get(0).startsWith(program + ": "), () -> "the line must start with '" + program + ": ': " + r);
        assertTrue(lines.get(0).length() > program.length() + 10, () -> "a message that says something: " + r);
        assertEquals("", r.stdout(), () -> "nothing on stdout: " + r);
    }
}
