package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;

/**
 * Shared by the operations tests (Ops*IT): finding tools on PATH, running {@code make} targets of
 * the project, reading option names out of {@code --help} and out of a man page.
 */
final class OpsSupport {

    /** Both programs, by launcher name. */
    static final List<String> PROGRAMS = List.of("fixed_rtunnel", "dynamic_rtunnel");
    /** One launcher run (a JVM start): only a guard against a hang. */
    static final Duration RUN_TIMEOUT = Duration.ofSeconds(30);

    /** An option line of picocli's help: 2 spaces and "-h, --help", or 6 spaces and "--name". */
    private static final Pattern HELP_OPTION_LINE =
            Pattern.compile("^ {1,6}(?:(-[A-Za-z0-9]), )?(--[A-Za-z0-9][A-Za-z0-9-]*)");
    private static final Pattern LONG_OPTION = Pattern.compile("(?<![A-Za-z0-9-])(--[A-Za-z0-9][A-Za-z0-9-]*)");
    private static final Pattern SHORT_OPTION = Pattern.compile("(?<![A-Za-z0-9-])(-[A-Za-z0-9])(?![A-Za-z0-9-])");

    private OpsSupport() {
    }

    /** The executable {@code name} on PATH, if any. */
    static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "/usr/bin:/bin:/usr/sbin:/sbin" : path + ":/usr/sbin:/sbin").split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Runs {@code make -C HOME args...}; fails with make's output unless it exits 0. */
    static Procs.Result make(Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>(List.of("make", "--no-print-directory", "-C", Launchers.home().toString()));
        cmd.addAll(List.of(args));
        Procs.Result r = Procs.runToEnd(cmd, timeout);
        assertEquals(0, r.exit(), () -> "make " + String.join(" ", args) + " failed: " + r);
        return r;
    }

    /**
     * The option names {@code --help} prints: the option column of the option list, and every
     * option of the usage synopsis. Fails if the text looks like no picocli help at all, so a
     * change of layout cannot make the man page checks pass on an empty list.
     */
    static Set<String> helpOptions(String help) {
        Set<String> names = new TreeSet<>();
        boolean inUsage = false;
        for (String line : help.split("\n", -1)) {
            if (line.startsWith("Usage:")) {
                inUsage = true;
            } else if (inUsage && !line.startsWith(" ")) {
                inUsage = false;
            }
            if (inUsage) {
                Matcher m = LONG_OPTION.matcher(line);
                while (m.find()) {
                    names.add(m.group(1));
                }
                continue;
            }
            Matcher m = HELP_OPTION_LINE.matcher(line);
            if (m.find()) {
                if (m.group(1) != null) {
                    names.add(m.group(1));
                }
                names.add(m.group(2));
            }
        }
        if (!names.contains("--help") || names.size() < 10) {
            throw new AssertionError("could not read the options out of this --help output:\n" + help);
        }
        return names;
    }

    /**
     * The option names a man page documents: those in the tag line of a {@code .TP} entry
     * (the line after {@code .TP}), with roff escapes undone.
     */
    static Set<String> manPageOptions(String roff) {
        Set<String> names = new TreeSet<>();
        String[] lines = roff.split("\n", -1);
        for (int i = 0; i + 1 < lines.length; i++) {
            if (!lines[i].strip().equals(".TP")) {
                continue;
            }
            String tag = plain(lines[i + 1]);
            for (Pattern p : List.of(LONG_OPTION, SHORT_OPTION)) {
                Matcher m = p.matcher(tag);
                while (m.find()) {
                    names.add(m.group(1));
                }
            }
        }
        return names;
    }

    /** Roff source text with font escapes, {@code \c} and quoting removed and {@code \-} as "-". */
    static String plain(String roffLine) {
        return roffLine.replaceAll("\\\\f(?:\\[[^]]*]|\\(..|.)", "")
                .replace("\\-", "-")
                .replace("\\c", "")
                .replace("\\&", "")
                .replace("\"", " ");
    }

    /** Every regular file below {@code root}, as paths relative to it with "/" separators. */
    static Set<String> filesUnder(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            Set<String> out = new TreeSet<>();
            s.filter(Files::isRegularFile).forEach(p -> out.add(root.relativize(p).toString().replace('\\', '/')));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
