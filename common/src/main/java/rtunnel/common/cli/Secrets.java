package rtunnel.common.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

import rtunnel.common.protocol.Password;

/**
 * Where the shared password comes from: {@code --password-file}, the environment variable
 * {@code RTUNNEL_PASSWORD}, or (with a warning, since ps shows it) {@code --password} on argv.
 */
public final class Secrets {
    public static final String ENV = "RTUNNEL_PASSWORD";

    private Secrets() {
    }

    /** The password and a warning to log, or null when there is nothing to warn about. */
    public record Resolved(Password password, String warning) {
    }

    public static Resolved resolve(String argvHex, Path file, String envValue) throws RtunnelException {
        if (argvHex != null && file != null) {
            throw RtunnelException.usage("give --password or --password-file, not both");
        }
        if (file != null) {
            return new Resolved(Password.parseHex("--password-file " + file, readFile(file)), null);
        }
        if (argvHex != null) {
            return new Resolved(Password.parseHex("--password", argvHex),
                    "--password on the command line can be read by every user of this machine (ps); "
                            + "prefer --password-file or " + ENV);
        }
        if (envValue != null && !envValue.isEmpty()) {
            return new Resolved(Password.parseHex(ENV, envValue.strip()), null);
        }
        return new Resolved(Password.DEFAULT, "no password given: using the original's default \"PaSsWoRd\"; "
                + "anyone who knows the program knows it (see --password-file)");
    }

    /** The first line of a file only its owner may read (like ssh's private keys). */
    static String readFile(Path file) throws RtunnelException {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
                throw RtunnelException.failure("--password-file " + file + " can be read by other users; "
                        + "chmod 600 it first");
            }
            if (Files.size(file) > 4096) {
                throw RtunnelException.failure("--password-file " + file + " is too large for a password file");
            }
            String text = Files.readString(file, StandardCharsets.US_ASCII);
            String first = text.lines().findFirst().orElse("").strip();
            if (first.isEmpty()) {
                throw RtunnelException.failure("--password-file " + file + " is empty");
            }
            return first;
        } catch (java.nio.charset.CharacterCodingException e) {
            throw RtunnelException.failure("--password-file " + file + " is not text", e);
        } catch (IOException e) {
            throw RtunnelException.failure("cannot read --password-file " + file + ": "
                    + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()), e);
        }
    }

    /** A fresh random password of {@code digits} hex digits. */
    public static String generate(int digits) {
        byte[] b = new byte[digits / 2];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
