package rtunnel.it.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * File, certificate and process-identity helpers of the security tests: fingerprints as the
 * programs print them, a test CA made with openssl, permissions, and {@code /proc/PID/status}.
 */
public final class SecFiles {

    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern FINGERPRINT = Pattern.compile("SHA256:[A-Za-z0-9+/]{43}=?");

    private SecFiles() {
    }

    /** True when the tests run as root (as CI does). */
    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name")) || uidOf(ProcessHandle.current().pid()) == 0;
    }

    /** The fingerprint fixed_rtunnel logged at start ({@code certificate SHA256:...}). */
    public static String fingerprintFromLog(String log) {
        Matcher m = Pattern.compile("certificate (" + FINGERPRINT.pattern() + ")").matcher(log);
        if (!m.find()) {
            throw new AssertionError("no 'certificate SHA256:...' line in the server log:\n" + log);
        }
        return m.group(1);
    }

    /** Runs {@code fixed_rtunnel --generate-cert} for {@code key}/{@code cert}; returns the printed fingerprint. */
    public static String generateCert(Path key, Path cert) {
        Procs.Result r = Procs.runToEnd(List.of(Launchers.fixedRtunnel().toString(), "--generate-cert",
                "--keyfile=" + key, "--certfile=" + cert), TOOL_TIMEOUT);
        assertEquals(0, r.exit(), () -> "fixed_rtunnel --generate-cert failed: " + r);
        Matcher m = Pattern.compile("fingerprint (" + FINGERPRINT.pattern() + ")").matcher(r.stdout());
        if (!m.find()) {
            throw new AssertionError("--generate-cert printed no fingerprint: " + r);
        }
        return m.group(1);
    }

    /** Runs openssl with {@code args} (absolute paths); {@code dir} names the files' place in a failure. */
    public static void openssl(Path dir, String... args) {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Procs.Result r = Procs.runToEnd(cmd, TOOL_TIMEOUT);
        assertEquals(0, r.exit(), () -> "openssl failed in " + dir + ": " + cmd + "\n" + r);
    }

    /** A certificate authority made by openssl: its EC key and self-signed certificate (PEM). */
    public record Ca(Path key, Path cert) {
    }

    /** Makes a CA named {@code cn} in {@code dir} (files {@code NAME.key}, {@code NAME.pem}). */
    public static Ca makeCa(Path dir, String name, String cn) {
        mkdirs(dir);
        Path key = dir.resolve(name + ".key").toAbsolutePath();
        Path cert = dir.resolve(name + ".pem").toAbsolutePath();
        openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.toString());
        openssl(dir, "req", "-x509", "-new", "-key", key.toString(), "-sha256", "-days", "30", "-subj", "/CN=" + cn,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-out", cert.toString());
        return new Ca(key, cert);
    }

    /**
     * Writes a fresh EC key ({@code key}, PKCS#8 PEM) and a server certificate for IP 127.0.0.1
     * signed by {@code ca} ({@code cert}).
     */
    public static void signServerCert(Ca ca, Path key, Path cert) {
        Path dir = cert.toAbsolutePath().getParent();
        mkdirs(dir);
        Path csr = dir.resolve(cert.getFileName() + ".csr");
        Path ext = dir.resolve(cert.getFileName() + ".ext");
        try {
            Files.writeString(ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    + "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.toString());
        openssl(dir, "req", "-new", "-key", key.toString(), "-subj", "/CN=127.0.0.1", "-out", csr.toString());
        openssl(dir, "x509", "-req", "-in", csr.toString(), "-CA", ca.cert().toString(), "-CAkey", ca.key().toString(),
                "-CAcreateserial", "-days", "30", "-sha256", "-extfile", ext.toString(), "-out", cert.toString());
    }

    /** The SHA-256 fingerprint of a PEM certificate in the programs' form, computed by openssl. */
    public static String opensslFingerprint(Path cert) {
        Procs.Result r = Procs.runToEnd(List.of("openssl", "x509", "-in", cert.toString(), "-noout", "-fingerprint",
                "-sha256"), TOOL_TIMEOUT);
        assertEquals(0, r.exit(), () -> "openssl x509 -fingerprint failed: " + r);
        String hex = r.stdout().substring(r.stdout().indexOf('=') + 1).strip().replace(":", "");
        byte[] der = java.util.HexFormat.of().parseHex(hex);
        return "SHA256:" + java.util.Base64.getEncoder().withoutPadding().encodeToString(der);
    }

    /**
     * A TCP port free on every address, chosen below the kernel's ephemeral range: a server told to
     * listen there cannot collide with the local end of some outgoing connection (of this or a
     * concurrent test run), which an ephemeral port picked a moment earlier can.
     */
    public static int freeListenPort() {
        int low = 32768;
        try {
            int read = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0)
                    .strip().split("\\s+")[0]);
            if (read >= 16384) {
                low = read; // a smaller range start leaves too little room below it: keep the default
            }
        } catch (IOException | RuntimeException e) {
            // Keep Linux's default range start.
        }
        int base = Math.max(1024, Math.min(low, 32768) - 12000);
        java.util.Random rnd = new java.util.Random();
        IOException last = null;
        for (int i = 0; i < 200; i++) {
            int port = base + rnd.nextInt(Math.max(1, Math.min(low, 32768) - base));
            try (java.net.ServerSocket s = new java.net.ServerSocket()) {
                s.bind(new java.net.InetSocketAddress(port));
                return port;
            } catch (IOException e) {
                last = e; // taken: try another
            }
        }
        throw new AssertionError("no free port in " + base + ".." + low + " after 200 tries", last);
    }

    /** chmod, e.g. {@code chmod(p, "rwxr-xr-x")}. */
    public static void chmod(Path p, String perms) {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
        } catch (IOException e) {
            throw new UncheckedIOException("chmod " + perms + " " + p, e);
        }
    }

    /** Writes {@code text} to {@code file} with mode {@code perms} (set before the content goes in). */
    public static Path writeSecret(Path file, String text, String perms) {
        try {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, text);
            chmod(file, perms);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public static void mkdirs(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("mkdir -p " + dir, e);
        }
    }

    /** The {@code Uid:} / {@code Gid:} / {@code Groups:} line of /proc/PID/status, split into numbers. */
    public static List<Long> procStatus(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith(field + ":")) {
                    String rest = line.substring(field.length() + 1).strip();
                    return rest.isEmpty() ? List.of()
                            : List.of(rest.split("\\s+")).stream().map(Long::parseLong).toList();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/" + pid + "/status (process gone?)", e);
        }
        throw new AssertionError("no " + field + ": line in /proc/" + pid + "/status");
    }

    private static long uidOf(long pid) {
        try {
            return procStatus(pid, "Uid").get(0);
        } catch (RuntimeException | AssertionError e) {
            return -1;
        }
    }

    /** Uid and gid of {@code user} from /etc/passwd. */
    public record Account(String name, long uid, long gid) {
    }

    public static Account account(String user) {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = line.split(":");
                if (f.length >= 4 && f[0].equals(user)) {
                    return new Account(user, Long.parseLong(f[2]), Long.parseLong(f[3]));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /etc/passwd", e);
        }
        throw new AssertionError("no user " + user + " in /etc/passwd");
    }
}
