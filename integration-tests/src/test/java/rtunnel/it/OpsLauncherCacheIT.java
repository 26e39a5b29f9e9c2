package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2TestService;

/**
 * The launcher's class archive for one-shot commands: the first control command leaves one in
 * the user's cache (made in the background on JDK 25+, at exit before), and the next command
 * finds the control client's classes in it, not in the jars, including those a command needs only
 * once connected.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OpsLauncherCacheIT {

    private static final String PASSWORD = "c0ffee00c0ffee00";

    @TempDir
    Path tmp;

    private FixedServer fixed;

    @AfterEach
    void stop() {
        if (fixed != null) {
            fixed.close();
        }
    }

    @Test
    void aControlCommandIsServedFromTheArchiveItsFirstRunLeft() throws IOException {
        fixed = FixedServer.start(tmp.resolve("fixed"), PASSWORD);
        fixed.controlOk("--addip-client=127.0.0.9");
        Path cache = tmp.resolve("cache");
        List<String> list = List.of(Launchers.fixedRtunnel().toString(), "--socketname=" + fixed.socket(),
                "--list-allowed-clients");
        Procs.Result first = Procs.runToEnd(list, Map.of("XDG_CACHE_HOME", cache.toString()), new byte[0],
                FixedServer.CONTROL_TIMEOUT);
        assertEquals(new Procs.Result(0, "IP: 127.0.0.9\n", ""), first);

        Path dir = cache.resolve("rtunnel");
        Procs.waitFor(Duration.ofSeconds(90), () -> archives(dir).size() == 1, "one finished archive in " + dir);

        Path classes = tmp.resolve("classes.txt");
        Procs.Result second = Procs.runToEnd(list, Map.of("XDG_CACHE_HOME", cache.toString(),
                "RTUNNEL_JAVA_OPTS", "-Xlog:class+load=info:file=" + classes), new byte[0], FixedServer.CONTROL_TIMEOUT);
        assertEquals(first, second);
        String loaded = Files.readString(classes, StandardCharsets.UTF_8);
        for (String c : List.of("rtunnel.fixed.QuickControl", "rtunnel.common.control.ControlClient",
                // Used only once connected: a training run that never reached a server leaves it out.
                "rtunnel.common.control.ControlWire")) {
            assertTrue(loaded.contains(c + " source: shared objects file"),
                    () -> c + " should come from " + archives(dir) + "; class loading:\n" + lines(loaded, c));
        }
        assertEquals(1, archives(dir).size(), () -> "one archive per build: " + archives(dir));

        // A control command's class path holds none of the big libraries: once it opens a
        // Unix-domain socket, the JDK opens every jar on it. A server's has them all.
        Procs.Result shown = Procs.runToEnd(list, Map.of("XDG_CACHE_HOME", cache.toString(),
                "RTUNNEL_JAVA_OPTS", "-XshowSettings:properties"), new byte[0], FixedServer.CONTROL_TIMEOUT);
        assertEquals(first.stdout(), shown.stdout());
        String classPath = classPath(shown.stderr());
        assertTrue(classPath.contains("common-") && classPath.contains("fixed-rtunnel-"), classPath);
        for (String big : List.of("bcprov-", "jna-", "junixsocket-")) {
            assertTrue(!classPath.contains(big), () -> big + " should not be on a control command's class path:\n" + classPath);
        }
        Procs.Result version = Procs.runToEnd(List.of(Launchers.fixedRtunnel().toString(), "--version"),
                Map.of("XDG_CACHE_HOME", cache.toString(), "RTUNNEL_JAVA_OPTS", "-XshowSettings:properties"),
                new byte[0], FixedServer.CONTROL_TIMEOUT);
        assertTrue(classPath(version.stderr()).contains("bcprov-"), version::stderr);
    }

    /** The java.class.path entry of -XshowSettings:properties: its first line and the indented ones after. */
    private static String classPath(String settings) {
        StringBuilder b = new StringBuilder();
        boolean in = false;
        for (String line : settings.lines().toList()) {
            if (line.strip().startsWith("java.class.path = ")) {
                in = true;
            } else if (in && line.contains(" = ")) {
                break;
            }
            if (in) {
                b.append(line.strip()).append('\n');
            }
        }
        return b.toString();
    }

    @Test
    void aDynamicStartIsServedFromTheArchiveItsFirstStartLeft() throws IOException {
        V2TestService service = V2TestService.start(FixedServer.LOCAL, false);
        try {
            fixed = V2Fixture.startFixed(tmp.resolve("fixed"), V2Fixture.password(16));
            Path cache = tmp.resolve("cache");
            Path dir = cache.resolve("rtunnel");
            // What another build and a killed training would have left: the start clears both.
            List<Path> stale = List.of(dir.resolve("dynamic_rtunnel.server-jdk-1-2.aot"),
                    dir.resolve("dynamic_rtunnel.server-jdk-1-2.aot.77.tmp"), dir.resolve("dynamic_rtunnel.server-jdk-1-2.aot.lock"));
            Files.createDirectories(stale.get(2));
            Files.writeString(stale.get(0), "old");
            Files.writeString(stale.get(1), "half");
            Procs first = V2Fixture.startDynamic(fixed, "aot", service.port(), Map.of("XDG_CACHE_HOME", cache.toString()));
            V2Fixture.awaitV2(fixed, "aot");
            for (Path p : stale) {
                assertTrue(!Files.exists(p), () -> p + " should be gone");
            }
            Procs.waitFor(Duration.ofSeconds(90), () -> serverArchives(dir).size() == 1,
                    "one finished dynamic_rtunnel start archive in " + dir);
            V2Fixture.killHard(first);

            Path classes = tmp.resolve("dynamic-classes.txt");
            Procs second = V2Fixture.startDynamic(fixed, "aot", service.port(), Map.of("XDG_CACHE_HOME", cache.toString(),
                    "RTUNNEL_JAVA_OPTS", "-Xlog:class+load=info:file=" + classes));
            V2Fixture.awaitLog(second, V2Fixture.TUNNEL_UP, "(?i)connected to .*protocol 2", "the second start connected",
                    fixed);
            Procs.waitFor(Duration.ofSeconds(15), () -> V2Fixture.tunnelsOf(fixed, "aot").size() == 1,
                    "only the second start's tunnel listed");
            V2Fixture.echoSession(V2Fixture.awaitV2(fixed, "aot").port(), "through a start from the archive");
            String loaded = Files.readString(classes, StandardCharsets.UTF_8);
            for (String c : List.of("rtunnel.dynamic.QuickStart", "rtunnel.dynamic.DynamicCommand", "rtunnel.dynamic.V2Link",
                    "rtunnel.common.v2.Mux", "rtunnel.common.v2.StreamPump", "sun.security.ssl.ClientHello")) {
                assertTrue(loaded.contains(c + " source: shared objects file"),
                        () -> c + " should come from " + serverArchives(dir) + "; class loading:\n" + lines(loaded, c));
            }
            // Its options took the lean path: picocli's model (~150 ms of a start) was never built.
            assertTrue(!loaded.contains("picocli.CommandLine source:"), () -> lines(loaded, "picocli.CommandLine"));
            // The training must not teach it classes that need BouncyCastle's signed jars: checking
            // their signatures costs every start ~100 ms, and a client start needs none of them.
            assertTrue(!loaded.contains("org.bouncycastle"), () -> lines(loaded, "org.bouncycastle"));
            assertEquals(1, serverArchives(dir).size(), () -> "one archive per build: " + serverArchives(dir));
        } finally {
            service.close();
        }
    }

    private static List<Path> serverArchives(Path dir) {
        return archives(dir, "dynamic_rtunnel\\.server-.*-\\d+-\\d+\\.aot");
    }

    private static List<Path> archives(Path dir) {
        return archives(dir, "fixed_rtunnel-.*-\\d+-\\d+\\.(aot|jsa)");
    }

    private static List<Path> archives(Path dir, String nameRegex) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches(nameRegex)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String lines(String text, String containing) {
        return String.join("\n", text.lines().filter(l -> l.contains(containing)).toList());
    }
}
