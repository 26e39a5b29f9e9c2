package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.EchoService;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Json;
import rtunnel.it.support.Procs;

/**
 * Acceptance 7: the control CLI. Several options in one call run in order; {@code --json} gives
 * parseable JSON for every listing; {@code --kill-tunnel} drops one live tunnel; {@code --delip-*}
 * and {@code --maxtunnels} behave as documented; the control socket is private (mode 0600).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlIT {

    private static final String PASSWORD = "c0ffee00c0ffee00";
    private static final Duration TUNNEL_UP = Duration.ofSeconds(20);
    /** C ctime() without its newline: day of month padded with a space. */
    private static final String CTIME = "[A-Z][a-z]{2} [A-Z][a-z]{2} [ 123]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}";

    @TempDir
    Path tmp;

    private FixedServer fixed;
    private EchoService service;

    @AfterEach
    void stopAll() throws IOException {
        if (fixed != null) {
            fixed.close();
        }
        if (service != null) {
            service.close();
        }
    }

    /** SPEC A1: several control options in one call run in the order given, repeats included. */
    @Test
    void severalOptionsRunInTheOrderGivenAndTheSocketIsPrivate() throws IOException {
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fixed.socket())),
                "control socket mode");

        fixed.controlOk("--addip-client=127.0.0.6");
        String out = fixed.controlOk("--addip-client=127.0.0.7", "--list-allowed-clients",
                "--delip-client=127.0.0.7", "--list-allowed-clients");
        String added = "IP: 127.0.0.7\n";
        String both = "IP: 127.0.0.6\nIP: 127.0.0.7\n";
        String after = "IP: 127.0.0.6\n";
        assertTrue(out.equals(added + both + after) || out.equals(added + both + added + after),
                () -> "add, list, delete, list in that order; got:\n" + out);
    }

    @Test
    void delipRemovesEntriesOfEveryKindAndRefusesUnknownOnes() {
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD);
        fixed.controlOk("--addip-client=127.0.0.6");
        String after = "IP: 127.0.0.6\n";
        String tunnels = fixed.controlOk("--addip-tunnel=10.0.0.0/8", "--addip-tunnel=2001:db8::1",
                "--list-allowed-tunnels");
        assertEquals("IP: 10.0.0.0/8\nIP: 2001:db8::1\nIP: 10.0.0.0/8\nIP: 2001:db8::1\n", tunnels);
        fixed.controlOk("--delip-tunnel=10.0.0.0/8");
        assertEquals("IP: 2001:db8::1\n", fixed.controlOk("--list-allowed-tunnels"));
        fixed.controlOk("--delip-tunnel=2001:db8::1");
        assertEquals("", fixed.controlOk("--list-allowed-tunnels"));

        Procs.Result r = fixed.control("--delip-client=127.0.0.9");
        assertEquals(1, r.exit(), () -> "deleting an address that is not listed: " + r);
        assertOneLine(r);
        assertEquals(after, fixed.controlOk("--list-allowed-clients"), "a failed delete changes nothing");
    }

    @Test
    void jsonParsesForEveryListing() throws IOException {
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD);
        service = EchoService.start(FixedServer.LOCAL, new byte[0]);
        fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-client=127.0.0.3", "--addip-client=2001:db8::/32");
        // A hostname with JSON's special characters must come out escaped.
        String hostname = "j\"s\\on";
        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=" + hostname);
        Tunnel t = fixed.awaitTunnel(TUNNEL_UP, x -> true, "the tunnel");
        assertEquals(hostname, t.hostname(), t::line);
        assertTrue(t.timestamp().matches(CTIME), () -> "timestamp in ctime() form: " + t.line());

        Object tunnels = Json.parse(fixed.controlOk("--json", "--list-tunnels"));
        List<?> list = assertInstanceOf(List.class, tunnels, "--json --list-tunnels is an array");
        assertEquals(1, list.size(), tunnels::toString);
        Map<?, ?> one = assertInstanceOf(Map.class, list.get(0), tunnels::toString);
        assertEquals((long) t.id(), one.get("id"), one::toString);
        assertEquals((long) t.port(), one.get("port"), one::toString);
        assertEquals("127.0.0.2", one.get("remoteip"), one::toString);
        assertEquals(hostname, one.get("hostname"), one::toString);

        for (String listing : List.of("--list-allowed-tunnels", "--list-allowed-clients", "--lastip-tunnel",
                "--lastip-client")) {
            String json = fixed.controlOk("--json", listing);
            Json.parse(json); // throws on anything that is not exactly one JSON document
        }
        assertTrue(Json.parse(fixed.controlOk("--json", "--list-allowed-clients")).toString().contains("2001:db8::/32"));
        assertTrue(Json.parse(fixed.controlOk("--json", "--lastip-client")).toString().contains("0.0.0.0"));

        List<Object> all = Json.parseAll(fixed.controlOk("--json", "--list-tunnels", "--list-allowed-tunnels",
                "--list-allowed-clients", "--lastip-tunnel", "--lastip-client"));
        assertEquals(5, all.size(), () -> "one document per listing: " + all);
    }

    @Test
    void killTunnelDropsOneLiveTunnelAndTheDynamicSideComesBack() throws IOException {
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD);
        service = EchoService.start(FixedServer.LOCAL, "hi\n".getBytes(US_ASCII));
        fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-client=127.0.0.3");
        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=killme");
        Tunnel t = fixed.awaitTunnel(TUNNEL_UP, x -> true, "the tunnel");

        Procs.Result kill = fixed.control("--kill-tunnel=" + t.id());
        assertEquals(0, kill.exit(), kill::toString);
        assertEquals("", kill.stderr(), kill::toString);
        Tunnel again = fixed.awaitTunnel(TUNNEL_UP, x -> x.id() != t.id(), "a new tunnel after the kill");
        assertFalse(fixed.tunnels().stream().anyMatch(x -> x.id() == t.id()), "the killed tunnel is gone");
        assertEquals("killme", again.hostname(), again::line);
        assertEquals(1, fixed.tunnels().size(), () -> fixed.tunnels().toString());

        Procs.Result none = fixed.control("--kill-tunnel=999");
        assertEquals(1, none.exit(), none::toString);
        assertOneLine(none);
        assertEquals(again.id(), fixed.tunnels().get(0).id(), "a failed kill drops nothing");
    }

    @Test
    void maxTunnelsKeepsASecondTunnelOutWhileTheFirstHoldsTheSlot() throws IOException {
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD, "--maxtunnels=1");
        service = EchoService.start(FixedServer.LOCAL, new byte[0]);
        fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-tunnel=127.0.0.4");
        Procs first = fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + service.port(), "--hostname=first");
        fixed.awaitTunnel(TUNNEL_UP, x -> x.hostname().equals("first"), "the first tunnel");
        fixed.startDynamic("--source-ip=127.0.0.4", "--localport=" + service.port(), "--hostname=second");
        fixed.assertNoTunnelFor(Duration.ofSeconds(3), x -> x.hostname().equals("second"),
                "with --maxtunnels=1 the second tunnel must wait");
        assertEquals(1, fixed.tunnels().size());

        // Once the slot is free the second one, still dialling, gets it.
        first.stop();
        fixed.awaitTunnel(Duration.ofSeconds(35), x -> x.hostname().equals("second"), "the second tunnel in the free slot");
    }

    private static void assertOneLine(Procs.Result r) {
        List<String> lines = r.stderr().lines().toList();
        assertEquals(1, lines.size(), r::toString);
        assertTrue(lines.get(0).startsWith("fixed_rtunnel: "), r::toString);
    }
}
