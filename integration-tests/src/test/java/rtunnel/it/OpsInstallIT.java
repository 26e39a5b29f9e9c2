package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.Procs;

/**
 * {@code make install DESTDIR=tmp PREFIX=/usr} lays out launchers, jars, man pages, units,
 * completion and example configs, and the installed launchers run from there. The systemd units
 * of that install pass {@code systemd-analyze verify} when the tool is present.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OpsInstallIT {

    private static final Duration MAKE_TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    @Test
    void installLaysOutTheFilesAndTheInstalledLaunchersRun() throws IOException {
        Path root = tmp.resolve("root");
        OpsSupport.make(MAKE_TIMEOUT, "install", "DESTDIR=" + root, "PREFIX=/usr");

        Set<String> files = OpsSupport.filesUnder(root);
        List<String> expected = new ArrayList<>(List.of(
                "usr/share/rtunnel/find-jdk",
                "usr/lib/systemd/system/fixed_rtunnel.service",
                "usr/lib/systemd/system/dynamic_rtunnel@.service",
                "usr/share/doc/rtunnel/fixed.conf.example",
                "usr/share/doc/rtunnel/dynamic.conf.example"));
        for (String program : OpsSupport.PROGRAMS) {
            expected.add("usr/bin/" + program);
            expected.add("usr/share/man/man8/" + program + ".8");
            expected.add("usr/share/bash-completion/completions/" + program);
        }
        for (String jar : List.of("common-", "fixed-rtunnel-", "dynamic-rtunnel-", "picocli-")) {
            assertTrue(files.stream().anyMatch(f -> f.startsWith("usr/share/rtunnel/lib/" + jar) && f.endsWith(".jar")),
                    () -> "no " + jar + "*.jar in usr/share/rtunnel/lib: " + files);
        }
        for (String f : expected) {
            assertTrue(files.contains(f), () -> f + " was not installed; installed: " + files);
        }
        assertTrue(Files.isExecutable(root.resolve("usr/share/rtunnel/find-jdk")));

        for (String program : OpsSupport.PROGRAMS) {
            String launcher = root.resolve("usr/bin/" + program).toString();
            assertTrue(Files.isExecutable(Path.of(launcher)), launcher + " is not executable");
            Procs.Result help = Procs.runToEnd(List.of(launcher, "--help"), OpsSupport.RUN_TIMEOUT);
            assertEquals(0, help.exit(), () -> launcher + " --help: " + help);
            assertTrue(help.stdout().startsWith("Usage: " + program), () -> launcher + " --help: " + help);
            Procs.Result version = Procs.runToEnd(List.of(launcher, "--version"), OpsSupport.RUN_TIMEOUT);
            assertEquals(0, version.exit(), () -> launcher + " --version: " + version);
            assertTrue(version.stdout().startsWith(program + " "), () -> launcher + " --version: " + version);

            Path completion = root.resolve("usr/share/bash-completion/completions/" + program);
            String script = Files.readString(completion, StandardCharsets.UTF_8);
            assertTrue(script.contains("complete -F") && script.contains("--help"), () -> completion + ":\n" + script);
            Procs.Result syntax = Procs.runToEnd(List.of("bash", "-n", completion.toString()), OpsSupport.RUN_TIMEOUT);
            assertEquals(0, syntax.exit(), () -> "bash -n " + completion + ": " + syntax);
        }
        String unit = Files.readString(root.resolve("usr/lib/systemd/system/fixed_rtunnel.service"));
        assertTrue(unit.contains("ExecStart=/usr/bin/fixed_rtunnel "), unit);
    }

    /** With PREFIX=/usr/local (the default) the units name /usr/local/bin, where the launchers went. */
    @Test
    void unitsNameTheLaunchersOfTheirPrefix() throws IOException {
        Path root = tmp.resolve("local");
        OpsSupport.make(MAKE_TIMEOUT, "install", "DESTDIR=" + root);
        String unit = Files.readString(root.resolve("usr/local/lib/systemd/system/dynamic_rtunnel@.service"));
        assertTrue(unit.contains("ExecStart=/usr/local/bin/dynamic_rtunnel "), unit);
        assertTrue(Files.isExecutable(root.resolve("usr/local/bin/dynamic_rtunnel")));
    }

    /**
     * {@code systemd-analyze verify} checks that an ExecStart= program exists, and looks up the
     * Documentation= man pages: both are satisfied by verifying copies of the installed units
     * whose ExecStart= points into the DESTDIR tree, with MANPATH on its man pages. Any line the
     * tool prints (it only warns about an unknown key, with exit status 0) fails the test.
     */
    @Test
    void systemdAnalyzeVerifyPassesOnBothUnits() throws IOException {
        var tool = OpsSupport.onPath("systemd-analyze");
        if (tool.isEmpty()) {
            System.out.println("OpsInstallIT: systemd-analyze verify skipped: systemd-analyze is not installed"
                    + " (apt-get install systemd)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(tool.isPresent(), "systemd-analyze is not installed");
        Path root = tmp.resolve("root");
        OpsSupport.make(MAKE_TIMEOUT, "install", "DESTDIR=" + root, "PREFIX=/usr");
        Path units = Files.createDirectories(tmp.resolve("units"));
        List<String> cmd = new ArrayList<>(List.of(tool.get().toString(), "verify"));
        for (String name : List.of("fixed_rtunnel.service", "dynamic_rtunnel@.service")) {
            String text = Files.readString(root.resolve("usr/lib/systemd/system/" + name));
            Files.writeString(units.resolve(name), text.replace("/usr/bin/", root.resolve("usr/bin") + "/"));
            cmd.add(units.resolve(name).toString());
        }
        Procs.Result r = runWithEnv(cmd, Map.of("MANPATH", root.resolve("usr/share/man").toString()));
        assertEquals(0, r.exit(), () -> "systemd-analyze verify: " + r);
        assertEquals("", (r.stdout() + r.stderr()).strip(), () -> "systemd-analyze verify printed: " + r);
    }

    private static Procs.Result runWithEnv(List<String> cmd, Map<String, String> env) {
        List<String> full = new ArrayList<>(List.of("env"));
        env.forEach((k, v) -> full.add(k + "=" + v));
        full.addAll(cmd);
        return Procs.runToEnd(full, Duration.ofSeconds(60));
    }
}
