package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;

/**
 * The manual pages man/fixed_rtunnel.8 and man/dynamic_rtunnel.8 document every option the
 * programs print in {@code --help} (each as a {@code .TP} entry), and render without a warning.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OpsManPageIT {

    @ParameterizedTest
    @ValueSource(strings = {"fixed_rtunnel", "dynamic_rtunnel"})
    void everyHelpOptionHasAnEntryInTheManPage(String program) throws IOException {
        Procs.Result help = Procs.runToEnd(List.of(Launchers.home().resolve(program).toString(), "--help"),
                OpsSupport.RUN_TIMEOUT);
        assertEquals(0, help.exit(), () -> program + " --help: " + help);
        Set<String> options = OpsSupport.helpOptions(help.stdout());
        Set<String> documented = OpsSupport.manPageOptions(page(program));
        Set<String> missing = new TreeSet<>(options);
        missing.removeAll(documented);
        assertTrue(missing.isEmpty(), () -> "man/" + program + ".8 has no .TP entry for " + missing
                + " (options in --help: " + options + ")");
    }

    /** The check above must be able to fail: a page without one entry is caught. */
    @Test
    void aMissingEntryIsNoticed() throws IOException {
        String roff = page("fixed_rtunnel");
        String without = roff.replace(".TP\n.BI \\-\\-maxtunnels= N\n", ".PP\n");
        assertTrue(!without.equals(roff), "the --maxtunnels entry changed its form; update this test");
        assertTrue(OpsSupport.manPageOptions(roff).contains("--maxtunnels"));
        assertTrue(!OpsSupport.manPageOptions(without).contains("--maxtunnels"));
        assertTrue(OpsSupport.manPageOptions(roff).containsAll(List.of("-h", "--help", "--generate-password")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"fixed_rtunnel", "dynamic_rtunnel"})
    void rendersWithoutWarnings(String program) {
        Optional<Path> groff = OpsSupport.onPath("groff");
        if (groff.isEmpty()) {
            System.out.println("OpsManPageIT: skipped: groff is not installed (apt-get install groff-base)");
        }
        Assumptions.assumeTrue(groff.isPresent(), "groff is not installed (apt-get install groff-base)");
        String file = pagePath(program).toString();
        Procs.Result r = Procs.runToEnd(List.of(groff.get().toString(), "-ww", "-z", "-man", "-Tutf8", file),
                OpsSupport.RUN_TIMEOUT);
        assertEquals(0, r.exit(), () -> "groff -ww " + file + ": " + r);
        assertEquals("", r.stderr(), () -> "groff -ww warns about " + file);

        Optional<Path> man = OpsSupport.onPath("man");
        if (man.isEmpty()) {
            System.out.println("OpsManPageIT: man -l not tried: man is not installed (apt-get install man-db)");
            return;
        }
        Procs.Result m = Procs.runToEnd(List.of(man.get().toString(), "--warnings", "-l", file), OpsSupport.RUN_TIMEOUT);
        assertEquals(0, m.exit(), () -> "man -l " + file + ": " + m);
        assertEquals("", m.stderr(), () -> "man --warnings -l warns about " + file);
        assertTrue(m.stdout().contains("EXIT STATUS") && m.stdout().contains("--help"),
                () -> "man -l " + file + " rendered no page:\n" + m.stdout());
    }

    private static Path pagePath(String program) {
        return Launchers.home().resolve("man").resolve(program + ".8");
    }

    private static String page(String program) throws IOException {
        return Files.readString(pagePath(program), StandardCharsets.UTF_8);
    }
}
