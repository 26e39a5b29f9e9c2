package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;

/**
 * {@code make deb} builds build/rtunnel_VERSION_all.deb with jdeb; {@code dpkg-deb --contents}
 * lists launchers, jars, man pages and units. Runs where dpkg-deb exists, unless
 * {@code -Drtunnel.deb.test=false}. The package is also installed with {@code dpkg -i}, its
 * {@code /usr/bin/fixed_rtunnel --version} run, and removed again with {@code dpkg --purge}: only
 * as root, on CI ({@code CI=true}) or with {@code -Drtunnel.deb.install=true}, and only when no
 * rtunnel package or /usr/bin/fixed_rtunnel is there before.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class OpsDebIT {

    /** jdeb's first run fetches the plugin from Maven Central; later runs take seconds. */
    private static final Duration MAKE_DEB_TIMEOUT = Duration.ofSeconds(240);
    private static final Duration DPKG_TIMEOUT = Duration.ofSeconds(60);

    @Test
    void makeDebBuildsAPackageWithTheInstalledFiles() throws IOException {
        Optional<Path> dpkgDeb = OpsSupport.onPath("dpkg-deb");
        String reason = !Boolean.parseBoolean(System.getProperty("rtunnel.deb.test", "true"))
                ? "-Drtunnel.deb.test=false"
                : dpkgDeb.isEmpty() ? "dpkg-deb is not installed" : null;
        if (reason != null) {
            System.out.println("OpsDebIT: skipped: " + reason);
        }
        Assumptions.assumeTrue(reason == null, reason);

        // -o build: use what `make build` made (the tests run after it) instead of rebuilding
        // the jars under the running tests.
        OpsSupport.make(MAKE_DEB_TIMEOUT, "-o", "build", "deb");
        Path deb;
        try (Stream<Path> s = Files.list(Launchers.home().resolve("build"))) {
            deb = s.filter(p -> p.getFileName().toString().matches("rtunnel_.+_all\\.deb"))
                    .findFirst().orElseThrow(() -> new AssertionError("make deb made no build/rtunnel_*_all.deb"));
        }
        Procs.Result contents = Procs.runToEnd(List.of(dpkgDeb.get().toString(), "--contents", deb.toString()),
                DPKG_TIMEOUT);
        assertEquals(0, contents.exit(), () -> "dpkg-deb --contents: " + contents);
        String listing = contents.stdout();
        for (String f : List.of("./usr/bin/fixed_rtunnel", "./usr/bin/dynamic_rtunnel",
                "./usr/share/rtunnel/find-jdk", "./usr/share/rtunnel/lib/fixed-rtunnel-",
                "./usr/share/rtunnel/lib/dynamic-rtunnel-", "./usr/share/rtunnel/lib/common-",
                "./usr/share/man/man8/fixed_rtunnel.8", "./usr/share/man/man8/dynamic_rtunnel.8",
                "./usr/lib/systemd/system/fixed_rtunnel.service", "./usr/lib/systemd/system/dynamic_rtunnel@.service",
                "./usr/share/bash-completion/completions/fixed_rtunnel")) {
            assertTrue(listing.contains(f), () -> f + " is not in " + deb.getFileName() + ":\n" + listing);
        }
        assertTrue(listing.lines().anyMatch(l -> l.startsWith("-rwxr-xr-x") && l.endsWith("./usr/bin/fixed_rtunnel")),
                () -> "the launcher is not executable in the package:\n" + listing);
        Procs.Result info = Procs.runToEnd(List.of(dpkgDeb.get().toString(), "--field", deb.toString(),
                "Package", "Architecture"), DPKG_TIMEOUT);
        assertEquals("Package: rtunnel\nArchitecture: all\n", info.stdout(), () -> "dpkg-deb --field: " + info);

        installAndRemove(deb);
    }

    private static void installAndRemove(Path deb) {
        boolean wanted = "true".equals(System.getenv("CI")) || Boolean.getBoolean("rtunnel.deb.install");
        boolean root = "root".equals(System.getProperty("user.name"));
        Optional<Path> dpkg = OpsSupport.onPath("dpkg");
        boolean clean = dpkg.isPresent() && !Files.exists(Path.of("/usr/bin/fixed_rtunnel"))
                && Procs.runToEnd(List.of(dpkg.get().toString(), "-s", "rtunnel"), DPKG_TIMEOUT).exit() != 0;
        if (!wanted || !root || !clean) {
            System.out.println("OpsDebIT: dpkg -i not tried: " + (!wanted ? "not on CI (CI=true or -Drtunnel.deb.install=true)"
                    : !root ? "not root" : "dpkg missing, or rtunnel already installed"));
            return;
        }
        try {
            Procs.Result in = Procs.runToEnd(List.of(dpkg.get().toString(), "-i", deb.toString()), DPKG_TIMEOUT);
            assertEquals(0, in.exit(), () -> "dpkg -i: " + in);
            Procs.Result v = Procs.runToEnd(List.of("/usr/bin/fixed_rtunnel", "--version"), OpsSupport.RUN_TIMEOUT);
            assertEquals(0, v.exit(), () -> "installed fixed_rtunnel --version: " + v);
            assertTrue(v.stdout().startsWith("fixed_rtunnel "), v::toString);
            assertTrue(Files.isDirectory(Path.of("/var/lib/rtunnel")), "postinst did not create /var/lib/rtunnel");
        } finally {
            Procs.Result out = Procs.runToEnd(List.of(dpkg.get().toString(), "--purge", "rtunnel"), DPKG_TIMEOUT);
            assertEquals(0, out.exit(), () -> "dpkg --purge rtunnel: " + out);
        }
    }
}
