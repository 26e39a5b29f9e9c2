package rtunnel.it.support;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Passwords for the security tests, and the check that none of them reaches a log (acceptance 10).
 * The passwords are hex of printable letters, so a log that printed the raw password bytes as text
 * would show them as well as one that printed the hex.
 */
public final class SecLogs {

    /** Log files bigger than this are not ours (a test log is a few hundred kB at most). */
    private static final long MAX_SCAN = 64L * 1024 * 1024;

    private SecLogs() {
    }

    /** A fresh password of {@code bytes} random letters, as hex (16 digits for 8 bytes, v1-capable). */
    public static String password(int bytes) {
        Random rnd = new Random(System.nanoTime() ^ Thread.currentThread().threadId());
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            b[i] = (byte) ((rnd.nextBoolean() ? 'A' : 'a') + rnd.nextInt(26));
        }
        return HexFormat.of().formatHex(b);
    }

    /** Every spelling of {@code hex} a careless log line could contain. */
    public static List<String> spellings(String hex) {
        byte[] raw = HexFormat.of().parseHex(hex);
        Set<String> s = new LinkedHashSet<>(List.of(hex.toLowerCase(Locale.ROOT), hex.toUpperCase(Locale.ROOT),
                new String(raw, ISO_8859_1), Base64.getEncoder().encodeToString(raw),
                Base64.getEncoder().withoutPadding().encodeToString(raw)));
        // The hex split in the middle still gives away half the secret: look for each half too.
        s.add(hex.toLowerCase(Locale.ROOT).substring(0, hex.length() / 2));
        s.add(hex.toLowerCase(Locale.ROOT).substring(hex.length() / 2));
        return new ArrayList<>(s);
    }

    /** Fails if {@code text} (named {@code what}) contains any spelling of any password. */
    public static void assertNoSecrets(String what, String text, Collection<String> hexPasswords) {
        for (String pw : hexPasswords) {
            for (String form : spellings(pw)) {
                int at = text.indexOf(form);
                if (at >= 0) {
                    int from = text.lastIndexOf('\n', at) + 1;
                    int to = text.indexOf('\n', at);
                    throw new AssertionError("a password used by the test (" + form + ") appears in " + what
                            + ": " + text.substring(from, to < 0 ? text.length() : to));
                }
            }
        }
    }

    /**
     * Scans every log file under {@code dir} (names ending in {@code .log} or containing
     * {@code log}) for the passwords. Returns how many files were scanned, so a caller can make
     * sure the scan saw something.
     */
    public static int assertNoSecretsInLogs(Path dir, Collection<String> hexPasswords) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        List<Path> logs;
        try (Stream<Path> all = Files.walk(dir)) {
            logs = all.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).contains("log"))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        for (Path log : logs) {
            try {
                if (Files.size(log) <= MAX_SCAN) {
                    assertNoSecrets(log.toString(), new String(Files.readAllBytes(log), ISO_8859_1), hexPasswords);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + log, e);
            }
        }
        return logs.size();
    }

    /** The printable text of a letters password (for messages in tests). */
    public static String text(String hex) {
        return new String(HexFormat.of().parseHex(hex), US_ASCII);
    }
}
