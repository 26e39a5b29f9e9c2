package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.EchoService;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Procs;
import rtunnel.it.support.RelServer;
import rtunnel.it.support.V2Fixture;

/**
 * Issue 7, acceptance 7: the state file's directory is a 64 KiB tmpfs that fills up, then turns
 * read-only. A change through the control socket is refused with one clear line and exit status 1,
 * the running state (allowlists, the live tunnel) is kept, the old state file is left byte for byte
 * with no temporary file beside it; once the disk is writable again changes work, and a restart
 * from that file has exactly the changes that were reported done. Needs root to mount (skipped
 * otherwise); a root-owned chmod would not stop root, so a real full or read-only file system is used.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RelDiskIT {

    private static final String PASSWORD = V2Fixture.password(8);
    private static final byte[] BANNER = "REL DISK\n".getBytes(US_ASCII);
    private static final String REFUSED = "cannot save the state file";

    @TempDir
    Path tmp;

    private Path mnt;
    private boolean mounted;
    private RelServer fixed;
    private EchoService service;

    @AfterEach
    void stopAll() throws IOException {
        try {
            if (fixed != null) {
                fixed.close();
            }
            if (service != null) {
                service.close();
            }
        } finally {
            if (mounted) {
                Procs.Result r = Procs.runToEnd(List.of("umount", mnt.toString()), Duration.ofSeconds(20));
                if (r.exit() != 0) {
                    Procs.runToEnd(List.of("umount", "-l", mnt.toString()), Duration.ofSeconds(20));
                }
            }
        }
    }

    @Test
    void aFullThenReadOnlyStateDirectoryRefusesChangesClearlyAndKeepsEverything() throws Exception {
        mnt = tmp.resolve("statefs");
        Files.createDirectories(mnt);
        Procs.Result m = mount("-t", "tmpfs", "-o", "size=64k,mode=0700", "rel-state", mnt.toString());
        assumeTrue(m.exit() == 0, () -> "cannot mount a tmpfs here (needs root): " + m);
        mounted = true;
        Path state = mnt.resolve("fixed.state");

        service = EchoService.start(FixedServer.LOCAL, BANNER);
        fixed = RelServer.create(tmp.resolve("fixed"), PASSWORD, state);
        fixed.start();
        assertEquals("IP: 127.0.0.2\nIP: 127.0.0.3\n", cliOk("--addip-tunnel=127.0.0.2", "--addip-client=127.0.0.3"));
        fixed.startDynamic(V2Fixture.DYNAMIC_HOST, "rel-disk", service.port());
        Tunnel t = fixed.awaitV2("rel-disk", Duration.ofSeconds(40));
        // The sticky port is saved on connect: wait until that write is done before taking the baseline.
        Procs.waitFor(Duration.ofSeconds(10), () -> read(state).contains("port rel-disk"),
                "the sticky port of rel-disk in the state file");
        String clients = cliOk("--list-allowed-clients");
        String tunnelsAllowed = cliOk("--list-allowed-tunnels");
        byte[] saved = Files.readAllBytes(state);

        // 1. The file system is full.
        fill(mnt.resolve("filler"));
        assertRefused("--addip-client=10.9.9.9");
        assertRefused("--delip-client=127.0.0.3");
        assertKept(state, saved, clients, tunnelsAllowed, t);

        // 2. The file system is read-only (with room again).
        Files.delete(mnt.resolve("filler"));
        Procs.Result ro = mount("-o", "remount,ro", mnt.toString());
        assertEquals(0, ro.exit(), ro::toString);
        assertRefused("--addip-client=10.9.9.10");
        assertRefused("--addip-tunnel=10.9.9.10");
        assertKept(state, saved, clients, tunnelsAllowed, t);

        // 3. Writable again: changes work and reach the disk.
        Procs.Result rw = mount("-o", "remount,rw", mnt.toString());
        assertEquals(0, rw.exit(), rw::toString);
        assertEquals("IP: 10.9.9.11\n", cliOk("--addip-client=10.9.9.11"));

        // 4. What is on disk loads, and holds exactly what was reported done.
        fixed.kill9();
        fixed.start();
        assertEquals(java.util.Set.of("IP: 127.0.0.3", "IP: 10.9.9.11"),
                java.util.Set.copyOf(cliOk("--list-allowed-clients").lines().toList()),
                () -> "client allowlist after the restart; state file:\n" + read(state));
        assertEquals(tunnelsAllowed, cliOk("--list-allowed-tunnels"), "tunnel allowlist after the restart");
        Tunnel back = fixed.awaitV2("rel-disk", Duration.ofSeconds(40));
        assertEquals(t.port(), back.port(), "sticky port after the restart");
    }

    private void assertRefused(String... args) {
        Procs.Result r = fixed.cli(args);
        assertEquals(1, r.exit(), () -> "a change the server cannot save must fail with status 1: " + r);
        List<String> err = r.stderr().lines().toList();
        assertEquals(1, err.size(), () -> "one line on stderr: " + r);
        assertTrue(err.get(0).startsWith("fixed_rtunnel: ") && err.get(0).contains(REFUSED),
                () -> "the error must say the state file cannot be saved: " + r);
        assertTrue(!r.stdout().contains("IP: 10.9.9"), () -> "a refused change reported as done: " + r);
    }

    private void assertKept(Path state, byte[] saved, String clients, String tunnelsAllowed, Tunnel t)
            throws IOException {
        assertEquals(clients, cliOk("--list-allowed-clients"), "client allowlist after a refused change");
        assertEquals(tunnelsAllowed, cliOk("--list-allowed-tunnels"), "tunnel allowlist after a refused change");
        assertArrayEquals(saved, Files.readAllBytes(state), "the state file must be left as it was");
        try (Stream<Path> files = Files.list(state.getParent())) {
            List<String> leftovers = files.map(p -> p.getFileName().toString())
                    .filter(n -> !n.equals("fixed.state") && !n.equals("filler")).toList();
            assertTrue(leftovers.isEmpty(), () -> "files left beside the state file: " + leftovers);
        }
        List<Tunnel> now = fixed.tunnels();
        assertTrue(now.stream().anyMatch(x -> x.id() == t.id() && x.port() == t.port()),
                () -> "the live tunnel must stay: " + now);
        try (Socket s = V2Fixture.connect(V2Fixture.CLIENT, t.port())) {
            assertArrayEquals(BANNER, s.getInputStream().readNBytes(BANNER.length), "a session still works");
        }
    }

    private String cliOk(String... args) {
        Procs.Result r = fixed.cli(args);
        assertEquals(0, r.exit(), () -> "control " + List.of(args) + ": " + r + "\n" + fixed.describe());
        return r.stdout();
    }

    /** Writes until the file system says it is full (bounded: 64 KiB is 64 writes of 1 KiB). */
    private static void fill(Path filler) {
        byte[] k = new byte[1024];
        try (OutputStream out = Files.newOutputStream(filler)) {
            for (int i = 0; i < 10_000; i++) {
                out.write(k);
                out.flush();
            }
        } catch (IOException full) {
            return;
        }
        throw new AssertionError("10 MB written to a 64 KiB tmpfs without an error");
    }

    private static Procs.Result mount(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of("mount"));
        cmd.addAll(List.of(args));
        return Procs.runToEnd(cmd, Duration.ofSeconds(20));
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "(cannot read " + p + ": " + e + ")";
        }
    }
}
