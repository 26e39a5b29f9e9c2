package rtunnel.common.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import rtunnel.common.cli.RtunnelException;
import rtunnel.common.net.AddressRange;
import rtunnel.common.net.IpAddresses;

/**
 * The control socket end to end: a real ControlServer on a Unix socket in a temporary directory,
 * driven by ControlClient and by raw JDK Unix-domain channels that send what no client would.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ControlServerTest {
    @TempDir
    Path dir;

    private final List<ControlRequest> seen = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private Path sock() {
        return dir.resolve("c.sock");
    }

    /** Answers like fixed_rtunnel would, and records every request it is given. */
    private ControlReply handle(ControlRequest r) {
        seen.add(r);
        return switch (r.command()) {
            case LIST_ALLOWED_CLIENTS -> ControlReply.ok(ControlFormat.addresses(List.of("192.0.2.1", "2001:db8::/32"), r.json()));
            case ADDIP_CLIENT, ADDIP_TUNNEL -> ControlReply.ok(ControlFormat.address(AddressRange.parse(r.argument()).toString(), r.json()));
            case LASTIP_TUNNEL, LASTIP_CLIENT -> ControlReply.ok(ControlFormat.address("0.0.0.0", r.json()));
            case LIST_TUNNELS -> ControlReply.ok(ControlFormat.tunnels(List.of(), r.json()));
            case DELIP_CLIENT -> ControlReply.error("'" + r.argument() + "' is not on the client allowlist\nsecond line");
            case KILL_TUNNEL -> throw new IllegalStateException("handler bug");
            default -> ControlReply.error("not supported here");
        };
    }

    private ControlServer start() throws RtunnelException {
        ControlServer s = ControlServer.start(sock(), this::handle);
        toClose.add(s);
        return s;
    }

    private static ControlRequest req(ControlCommand c) {
        return new ControlRequest(c, null, false);
    }

    private static ControlRequest req(ControlCommand c, String arg) {
        return new ControlRequest(c, arg, false);
    }

    /** Runs the client and returns what it printed on out; stderr must stay empty. */
    private static List<String> run(Path socket, ControlRequest... requests) throws RtunnelException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = ControlClient.run(socket, List.of(requests), o, e);
        }
        assertEquals(0, status);
        assertEquals("", err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private void assertStillServing() throws RtunnelException {
        assertEquals(List.of("IP: 0.0.0.0"), run(sock(), req(ControlCommand.LASTIP_CLIENT)));
    }

    @Test
    void requestsRunInOrderAndEveryAnswerIsPrinted() throws Exception {
        start();
        List<String> out = run(sock(),
                req(ControlCommand.LIST_ALLOWED_CLIENTS),
                req(ControlCommand.ADDIP_CLIENT, "192.0.2.77/24"),
                req(ControlCommand.LIST_TUNNELS),
                req(ControlCommand.LASTIP_TUNNEL),
                new ControlRequest(ControlCommand.LIST_ALLOWED_CLIENTS, null, true),
                req(ControlCommand.ADDIP_TUNNEL, "2001:DB8::1"));
        assertEquals(List.of("IP: 192.0.2.1", "IP: 2001:db8::/32", "IP: 192.0.2.0/24", "IP: 0.0.0.0",
                "[\"192.0.2.1\",\"2001:db8::/32\"]", "IP: 2001:db8::1"), out);
        assertEquals(List.of(
                req(ControlCommand.LIST_ALLOWED_CLIENTS),
                req(ControlCommand.ADDIP_CLIENT, "192.0.2.77/24"),
                req(ControlCommand.LIST_TUNNELS),
                req(ControlCommand.LASTIP_TUNNEL),
                new ControlRequest(ControlCommand.LIST_ALLOWED_CLIENTS, null, true),
                req(ControlCommand.ADDIP_TUNNEL, "2001:DB8::1")), seen);
    }

    @Test
    void anErrorAnswerStopsTheRunWithOneLine() throws Exception {
        start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        RtunnelException e = assertThrows(RtunnelException.class, () -> ControlClient.run(sock(), List.of(
                req(ControlCommand.LASTIP_TUNNEL),
                req(ControlCommand.ADDIP_CLIENT, "not-an-address"),
                req(ControlCommand.LIST_ALLOWED_CLIENTS)), o, o));
        assertEquals(RtunnelException.FAILURE, e.exitCode());
        assertTrue(e.getMessage().startsWith("--addip-client: 'not-an-address' is not an address"), e.getMessage());
        assertOneLine(e.getMessage());
        assertEquals("IP: 0.0.0.0\n", out.toString(StandardCharsets.UTF_8), "answers before the refusal are printed");
        assertEquals(2, seen.size(), "nothing runs after the refused request");

        e = assertThrows(RtunnelException.class, () -> run(sock(), req(ControlCommand.DELIP_CLIENT, "192.0.2.9")));
        assertEquals("--delip-client: '192.0.2.9' is not on the client allowlist?second line", e.getMessage());

        // A handler that throws costs one request, not the server.
        e = assertThrows(RtunnelException.class, () -> run(sock(), req(ControlCommand.KILL_TUNNEL, "3")));
        assertTrue(e.getMessage().startsWith("--kill-tunnel: internal error"), e.getMessage());
        assertOneLine(e.getMessage());
        assertStillServing();
    }

    @Test
    void anArgumentCannotSmuggleInASecondRequest() throws Exception {
        start();
        RtunnelException e = assertThrows(RtunnelException.class,
                () -> run(sock(), req(ControlCommand.ADDIP_CLIENT, "192.0.2.1\nkill-tunnel\t0\t1")));
        assertOneLine(e.getMessage());
        assertFalse(seen.stream().anyMatch(r -> r.command() == ControlCommand.KILL_TUNNEL), seen.toString());
        assertStillServing();
    }

    @Test
    void noServerIsOneClearLineNamingTheSocket() {
        RtunnelException e = assertThrows(RtunnelException.class, () -> run(sock(), req(ControlCommand.LIST_TUNNELS)));
        assertTrue(e.getMessage().contains(sock().toString()) && e.getMessage().contains("--socketname"), e.getMessage());
        assertOneLine(e.getMessage());
    }

    @Test
    void theSocketFileIsMode0600AndGoesAwayOnClose() throws Exception {
        ControlServer s = start();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock())));
        s.close();
        assertFalse(Files.exists(sock()));
        assertThrows(RtunnelException.class, () -> run(sock(), req(ControlCommand.LIST_TUNNELS)));
        start();
        assertStillServing();
    }

    @Test
    void aSecondServerOnALiveSocketFailsWithInUse() throws Exception {
        start();
        RtunnelException e = assertThrows(RtunnelException.class, () -> ControlServer.start(sock(), r -> ControlReply.ok(List.of())));
        assertTrue(e.getMessage().contains("in use") && e.getMessage().contains(sock().toString()), e.getMessage());
        assertOneLine(e.getMessage());
        assertStillServing();
    }

    @Test
    void aStaleSocketLeftByACrashIsReplaced() throws Exception {
        // Bind and close without unlinking: the file stays and nothing listens, as after a kill -9.
        try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(sock()));
        }
        assertTrue(Files.exists(sock()));
        assertThrows(IOException.class, () -> SocketChannel.open(UnixDomainSocketAddress.of(sock())).close());
        start();
        assertStillServing();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock())));
    }

    @Test
    void aRegularFileOrDirectoryAtThePathIsRefusedAndLeftAlone() throws Exception {
        Files.writeString(sock(), "precious");
        RtunnelException e = assertThrows(RtunnelException.class, this::start);
        assertTrue(e.getMessage().contains("not a socket") && e.getMessage().contains(sock().toString()), e.getMessage());
        assertOneLine(e.getMessage());
        assertEquals("precious", Files.readString(sock()));

        Path d = Files.createDirectory(dir.resolve("d.sock"));
        e = assertThrows(RtunnelException.class, () -> ControlServer.start(d, this::handle));
        assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
        assertTrue(Files.isDirectory(d));
    }

    /** Bytes no ControlClient would send; each gets an "error ..." answer or a close. */
    @ParameterizedTest
    @ValueSource(strings = {"binary", "nul-in-line", "cr-lf", "long-line", "endless-line", "bad-utf8", "half-line",
            "empty-line", "only-tabs", "huge-count"})
    void garbageGetsAnErrorOrACloseAndTheServerGoesOn(String kind) throws Exception {
        start();
        byte[] payload = switch (kind) {
            case "binary" -> new byte[] {0, 1, 2, 3, (byte) 0xff, (byte) 0x80, '\n'};
            case "nul-in-line" -> "list-tunnels\u0000\t0\t\n".getBytes(StandardCharsets.UTF_8);
            case "cr-lf" -> "list-tunnels\t0\t\r\n".getBytes(StandardCharsets.UTF_8);
            case "long-line" -> ("addip-client\t0\t" + "1".repeat(5000) + "\n").getBytes(StandardCharsets.UTF_8);
            case "endless-line" -> "a".repeat(200_000).getBytes(StandardCharsets.UTF_8);
            case "bad-utf8" -> new byte[] {(byte) 0xff, (byte) 0xfe, (byte) 0xc0, '\t', '0', '\t', '\n'};
            case "half-line" -> "list-tun".getBytes(StandardCharsets.UTF_8);
            case "empty-line" -> "\n".getBytes(StandardCharsets.UTF_8);
            case "only-tabs" -> "\t\t\t\t\n".getBytes(StandardCharsets.UTF_8);
            case "huge-count" -> "list-tunnels\t99999999999999999999\t\n".getBytes(StandardCharsets.UTF_8);
            default -> throw new IllegalArgumentException(kind);
        };
        // What a peer that sent all it had and half-closed must read; null where a plain close is right
        // (an unfinished line), or where the peer sends more than the server reads before hanging up.
        String expected = switch (kind) {
            case "binary", "nul-in-line", "cr-lf" -> "error binary data on the control socket";
            case "long-line" -> "error line longer than 4096 bytes on the control socket";
            case "bad-utf8" -> "error unknown control request '\ufffd\ufffd\ufffd'";
            case "empty-line", "only-tabs", "huge-count" -> "error malformed control request";
            default -> null;
        };
        List<String> answer = sendRaw(payload);
        for (String line : answer) {
            assertTrue(line.startsWith("error "), kind + ": answered " + line);
        }
        assertTrue(answer.size() <= 1, kind + ": " + answer);
        if (expected != null) {
            assertEquals(List.of(expected), answer, kind);
        } else if (kind.equals("half-line")) {
            assertEquals(List.of(), answer, kind);
        }
        assertTrue(seen.isEmpty(), kind + ": the handler saw " + seen);
        assertStillServing();
    }

    @Test
    void unknownAndMalformedRequestsGetAnErrorAndTheConnectionGoesOn() throws Exception {
        start();
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(sock()))) {
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            assertEquals("error unknown control request 'frobnicate'", ask(ch, in, "frobnicate\t0\t"));
            assertEquals("error unknown control request '--list-tunnels'", ask(ch, in, "--list-tunnels\t0\t"));
            assertEquals("error malformed control request", ask(ch, in, "hello"));
            assertEquals("error malformed control request", ask(ch, in, "list-tunnels"));
            assertEquals("error malformed control request", ask(ch, in, "list-tunnels\t2\t"));
            assertEquals("error malformed expiry in control request", ask(ch, in, "list-tunnels\t0\t\t"));
            assertEquals("error malformed control request", ask(ch, in, "list-tunnels\t0\t\t\t"));
            assertEquals("error an expiry only goes with addip requests", ask(ch, in, "list-tunnels\t0\t\t60"));
            assertEquals("error addip-client needs an argument", ask(ch, in, "addip-client\t0\t"));
            assertEquals("error '1.2.3' is not an address or CIDR range (like 192.0.2.7, 192.0.2.0/24 or 2001:db8::1)",
                    ask(ch, in, "addip-client\t0\t1.2.3"));
            assertEquals("ok 1", ask(ch, in, "lastip-tunnel\t0\t"));
            assertEquals("IP: 0.0.0.0", in.readLine());
            assertEquals("ok 1", ask(ch, in, "list-tunnels\t1\tignored"));
            assertEquals("[]", in.readLine());
        }
        assertEquals(List.of(req(ControlCommand.ADDIP_CLIENT, "1.2.3"), req(ControlCommand.LASTIP_TUNNEL),
                new ControlRequest(ControlCommand.LIST_TUNNELS, null, true)), seen);
    }

    @Test
    void idleConnectionsDoNotBlockOthers() throws Exception {
        start();
        List<SocketChannel> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(sock()));
                idle.add(ch);
                if (i % 2 == 0) {
                    ch.write(ByteBuffer.wrap("list-tun".getBytes(StandardCharsets.US_ASCII)));
                }
            }
            long t0 = System.nanoTime();
            assertStillServing();
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "answered while 40 peers sit idle");
        } finally {
            for (SocketChannel ch : idle) {
                ch.close();
            }
        }
    }

    /** Another local user must be turned away by the peer-uid check even when the file mode would let it in. */
    @Test
    void anotherUserIsRefusedByPeerCredentials() throws Exception {
        assumeTrue(rtunnel.common.cli.Unix.isRoot(), "needs root to act as another user");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")) && Files.isExecutable(Path.of("/usr/bin/python3")),
                "needs setpriv and python3");
        start();
        // Open the way on purpose, so that only the peer-credential check stands in between.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(sock(), PosixFilePermissions.fromString("rw-rw-rw-"));
        String py = "import socket,sys\n"
                + "s=socket.socket(socket.AF_UNIX)\n"
                + "s.settimeout(10)\n"
                + "s.connect(sys.argv[1])\n"
                + "s.sendall(b'lastip-tunnel\\t0\\t\\n')\n"
                + "d=b''\n"
                + "while not d.endswith(b'\\n'):\n"
                + "    b=s.recv(4096)\n"
                + "    if not b: break\n"
                + "    d+=b\n"
                + "sys.stdout.write(d.decode())\n";
        Process p = new ProcessBuilder("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "/usr/bin/python3", "-c", py, sock().toString()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "helper finished");
        String got = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), got);
        assertTrue(got.startsWith("error permission denied"), got);
        assertEquals(1, got.lines().count(), got);
        assertTrue(seen.isEmpty(), "the handler never saw the other user's request");
        assertStillServing();
    }

    /** Sends one request line and reads the head of the answer. */
    private static String ask(SocketChannel ch, BufferedReader in, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b);
        }
        return in.readLine();
    }

    /** Writes the bytes, half-closes, and returns every line the server sent before closing. */
    private List<String> sendRaw(byte[] payload) throws IOException {
        List<String> lines = new ArrayList<>();
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(sock()))) {
            try {
                ByteBuffer b = ByteBuffer.wrap(payload);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.shutdownOutput();
            } catch (IOException closedOnUs) {
                // The server hung up mid-write: a close is an allowed answer.
            }
            try {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
                for (String l = in.readLine(); l != null; l = in.readLine()) {
                    lines.add(l);
                }
            } catch (IOException reset) {
                // A close with our bytes still unread arrives as a reset: also a close.
            }
        }
        return lines;
    }

    private static void assertOneLine(String m) {
        assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
        assertFalse(m.contains("\tat "), "no stack trace: " + m);
    }

    // --- the wire format ----------------------------------------------------------------------

    @Test
    void everyRequestSurvivesTheWire() {
        for (ControlCommand c : ControlCommand.values()) {
            for (boolean json : new boolean[] {false, true}) {
                ControlRequest r = new ControlRequest(c, c.takesArgument() ? "192.0.2.1" : null, json);
                assertEquals(r, ControlWire.decode(ControlWire.encode(r)));
                assertEquals(c, ControlCommand.byWireName(c.wireName()).orElseThrow());
            }
        }
        assertEquals("addip-client", ControlCommand.ADDIP_CLIENT.wireName());
        assertNull(ControlWire.decode("list-tunnels\t0\tstray").argument(), "listings take no argument");
    }

    @Test
    void wireLinesAreBounded() throws Exception {
        String max = "x".repeat(ControlWire.MAX_LINE);
        assertEquals(max, ControlWire.readLine(new ByteArrayInputStream((max + "\n").getBytes(StandardCharsets.US_ASCII))));
        IOException e = assertThrows(IOException.class, () -> ControlWire.readLine(
                new ByteArrayInputStream((max + "x\n").getBytes(StandardCharsets.US_ASCII))));
        assertTrue(e.getMessage().contains("longer than 4096"), e.getMessage());
        assertThrows(EOFException.class, () -> ControlWire.readLine(new ByteArrayInputStream("abc".getBytes(StandardCharsets.US_ASCII))));
        assertNull(ControlWire.readLine(new ByteArrayInputStream(new byte[0])));
        assertThrows(IOException.class, () -> ControlWire.readLine(new ByteArrayInputStream(new byte[] {'a', 0x1b, '\n'})));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ControlWire.writeLine(out, "a\nb\rc\u007fd\te" + "y".repeat(10_000));
        String written = out.toString(StandardCharsets.UTF_8);
        assertTrue(written.startsWith("a?b?c?d\te"), written.substring(0, 20));
        assertEquals(1, written.chars().filter(ch -> ch == '\n').count());
        assertTrue(written.length() <= ControlWire.MAX_LINE + 1, "an answer line a client can read back");
    }

    // --- ControlFormat ------------------------------------------------------------------------

    private static Instant local(int year, int month, int day, int h, int m, int s) {
        return LocalDateTime.of(year, month, day, h, m, s).atZone(ZoneId.systemDefault()).toInstant();
    }

    /** The original's fields, in its order and form, start the line; our extras only follow. */
    private static void assertOriginalPrefix(String expected, String line) {
        assertTrue(line.equals(expected) || line.startsWith(expected + " "), () -> "expected <" + expected
                + "> at the start of <" + line + ">");
    }

    @Test
    void tunnelLinesKeepTheOriginalFormatWithCtimeTimestamps() {
        TunnelInfo t = new TunnelInfo(3698, 38173, IpAddresses.parseLiteral("2.3.4.5"), "computerc",
                local(2023, 11, 16, 19, 20, 28), 1, 0, 0, 0, -1);
        List<String> lines = ControlFormat.tunnels(List.of(t), false);
        assertEquals(1, lines.size());
        assertOriginalPrefix("Tunnel: id:3698 port:38173 remoteip:2.3.4.5 hostname:computerc timestamp:Thu Nov 16 19:20:28 2023",
                lines.get(0));
        assertTrue(lines.get(0).contains(" protocol:1 sessions:0 bytes_in:0 bytes_out:0"), lines.get(0));

        Locale before = Locale.getDefault();
        try {
            Locale.setDefault(Locale.GERMANY); // ctime() is always English, whatever the locale
            TunnelInfo early = new TunnelInfo(1, 40000, IpAddresses.parseLiteral("2001:DB8:0::7"), "cam",
                    local(2023, 11, 6, 9, 5, 3), 2, 2, 1234, 56789, 1500);
            String line = ControlFormat.tunnels(List.of(early), false).get(0);
            assertOriginalPrefix("Tunnel: id:1 port:40000 remoteip:2001:db8::7 hostname:cam timestamp:Mon Nov  6 09:05:03 2023",
                    line);
            assertTrue(line.contains(" protocol:2 sessions:2 bytes_in:1234 bytes_out:56789"), line);
            TunnelInfo jan = new TunnelInfo(2, 1, null, "x", local(2024, 1, 1, 0, 0, 0), 2, 0, 0, 0, -1);
            assertOriginalPrefix("Tunnel: id:2 port:1 remoteip:- hostname:x timestamp:Mon Jan  1 00:00:00 2024",
                    ControlFormat.tunnels(List.of(jan), false).get(0));
        } finally {
            Locale.setDefault(before);
        }
        assertEquals(List.of(), ControlFormat.tunnels(List.of(), false));
    }

    @Test
    void tunnelJsonIsOneDocument() {
        TunnelInfo a = new TunnelInfo(3, 40000, IpAddresses.parseLiteral("2001:db8::1"), "cam\"1\n",
                Instant.parse("2023-11-16T19:20:28Z"), 2, 1, 10, 20, 1500);
        TunnelInfo b = new TunnelInfo(4, 40001, null, "pi", Instant.parse("2023-11-06T09:05:03Z"), 1, 0, 0, 0, -1);
        List<String> doc = ControlFormat.tunnels(List.of(a, b), true);
        assertEquals(1, doc.size(), "one line, one document");
        String j = doc.get(0);
        assertTrue(j.startsWith("[{\"id\":3,\"port\":40000,\"remoteip\":\"2001:db8::1\",\"hostname\":\"cam\\\"1\\u000a\","
                + "\"connected\":\"2023-11-16T19:20:28Z\",\"protocol\":2,\"sessions\":1,\"bytes_in\":10,\"bytes_out\":20"), j);
        assertTrue(j.contains("},{\"id\":4,\"port\":40001,\"remoteip\":null,\"hostname\":\"pi\","
                + "\"connected\":\"2023-11-06T09:05:03Z\",\"protocol\":1,\"sessions\":0,\"bytes_in\":0,\"bytes_out\":0"), j);
        assertTrue(j.endsWith("}]"), j);
        assertEquals(2, j.chars().filter(c -> c == '{').count(), j);
        assertEquals(List.of("[]"), ControlFormat.tunnels(List.of(), true));
    }

    @Test
    void jsonStringsEscapeQuotesBackslashesAndControlCharacters() {
        assertEquals("\"plain\"", ControlFormat.quote("plain"));
        assertEquals("\"\"", ControlFormat.quote(""));
        assertEquals("\"a\\\"b\\\\c\"", ControlFormat.quote("a\"b\\c"));
        assertEquals("\"\\u000a\\u000d\\u0009\\u0000\\u001f\\u007f\"", ControlFormat.quote("\n\r\t\u0000\u001f\u007f"));
        assertEquals("\"caf\\u00e9 \\ud83d\\ude00\"", ControlFormat.quote("café \uD83D\uDE00"));
        assertEquals("\"</script>\"", ControlFormat.quote("</script>"));
    }

    @Test
    void addressListingsInBothForms() {
        assertEquals(List.of("IP: 1.2.3.4", "IP: 2001:db8::/32"), ControlFormat.addresses(List.of("1.2.3.4", "2001:db8::/32"), false));
        assertEquals(List.of("[\"1.2.3.4\",\"2001:db8::/32\"]"), ControlFormat.addresses(List.of("1.2.3.4", "2001:db8::/32"), true));
        assertEquals(List.of(), ControlFormat.addresses(List.of(), false));
        assertEquals(List.of("[]"), ControlFormat.addresses(List.of(), true));
        assertEquals(List.of("IP: 0.0.0.0"), ControlFormat.address("0.0.0.0", false));
        assertEquals(List.of("{\"ip\":\"0.0.0.0\"}"), ControlFormat.address("0.0.0.0", true));
    }
}
