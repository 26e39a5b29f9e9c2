package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.SecFiles;

/**
 * {@code find-jdk}, which the launchers source on every start, with neither JAVA_HOME nor
 * RTUNNEL_JAVA_HOME set: the java on PATH is followed through its links to its JDK. A link into
 * one of the directories where JDKs are installed is followed without starting readlink (a
 * process on every command); a link anywhere else still is.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OpsFindJdkIT {

    private static final Duration RUN = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    @Test
    void aLinkIntoAJdkElsewhereIsFollowedWithReadlink() throws IOException {
        Path jdk = tmp.resolve("jdk-elsewhere");
        Path java = executable(jdk.resolve("bin/java"), "#!/bin/sh\nexit 0\n");
        Files.writeString(jdk.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"21.0.9\"\n");
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Files.createSymbolicLink(bin.resolve("java"), java);

        Procs.Result r = findJdk(bin.toString());

        assertEquals(0, r.exit(), r::toString);
        assertEquals(jdk.toRealPath().toString(), r.stdout().strip(), r::toString);
    }

    @Test
    void aLinkIntoAnInstalledJdkIsFollowedWithoutReadlink() throws IOException {
        Path home = Path.of(System.getProperty("java.home")).toRealPath();
        List<String> installed = installedAs(home);
        Assumptions.assumeFalse(installed.isEmpty(), "this JDK (" + home + ") is not where find-jdk looks for JDKs");
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Files.createSymbolicLink(bin.resolve("java"), home.resolve("bin/java"));
        // A readlink that leaves a mark: find-jdk must not need it here.
        Path marks = tmp.resolve("readlink-was-run");
        Path fake = Files.createDirectories(tmp.resolve("fake"));
        executable(fake.resolve("readlink"), "#!/bin/sh\ntouch '" + marks + "'\nexit 1\n");

        Procs.Result r = findJdk(bin + ":" + fake);

        assertEquals(0, r.exit(), r::toString);
        assertTrue(installed.contains(r.stdout().strip()), () -> "expected one of " + installed + "; " + r);
        assertFalse(Files.exists(marks), "find-jdk started readlink for a link into " + installed);
    }

    /** Runs find-jdk with {@code path} before the system's directories and no JDK variables. */
    private static Procs.Result findJdk(String path) {
        return Procs.runToEnd(List.of("/bin/sh", Launchers.home().resolve("build/find-jdk").toString()),
                Map.of("PATH", path + ":/usr/bin:/bin", "JAVA_HOME", "", "RTUNNEL_JAVA_HOME", ""), new byte[0], RUN);
    }

    /**
     * The JDK directories in the places find-jdk scans whose java is {@code home}'s, as readlink
     * would name them: no linked directory (default-java), whose name would outlive a change of JDK.
     */
    private static List<String> installedAs(Path home) throws IOException {
        List<String> found = new ArrayList<>();
        for (Path dir : List.of(Path.of("/usr/lib/jvm"), Path.of("/opt/java"), Path.of("/opt"), Path.of("/usr/local/lib/jvm"))) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> entries = Files.list(dir)) {
                for (Path d : entries.toList()) {
                    boolean scanned = (!dir.equals(Path.of("/opt")) || d.getFileName().toString().startsWith("jdk"))
                            && !Files.isSymbolicLink(d);
                    Path java = d.resolve("bin/java");
                    if (scanned && Files.exists(java) && Files.isSameFile(java, home.resolve("bin/java"))) {
                        found.add(d.toString());
                    }
                }
            }
        }
        return found;
    }

    private static Path executable(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        SecFiles.chmod(file, "rwxr-xr-x");
        return file;
    }
}
