package rtunnel.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the programs under test are. The integration tests run the real launcher scripts that
 * {@code make build} writes at the project's top level, exactly as a user would.
 */
public final class Launchers {

    private Launchers() {
    }

    /**
     * The project's top directory: system property {@code rtunnel.home} (set by failsafe), else
     * the nearest directory above the working directory holding {@code fixed_rtunnel} or, before
     * a build, {@code scripts/launcher.sh}.
     */
    public static Path home() {
        String prop = System.getProperty("rtunnel.home");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path d = start; d != null; d = d.getParent()) {
            if (Files.exists(d.resolve("fixed_rtunnel")) || Files.exists(d.resolve("scripts/launcher.sh"))) {
                return d;
            }
        }
        throw new IllegalStateException("cannot find the project home above " + start
                + ": set -Drtunnel.home=DIR (the directory holding fixed_rtunnel)");
    }

    /** The {@code fixed_rtunnel} launcher; fails if {@code make build} has not been run. */
    public static Path fixedRtunnel() {
        return launcher("fixed_rtunnel");
    }

    /** The {@code dynamic_rtunnel} launcher; fails if {@code make build} has not been run. */
    public static Path dynamicRtunnel() {
        return launcher("dynamic_rtunnel");
    }

    private static Path launcher(String name) {
        Path p = home().resolve(name);
        if (!Files.isExecutable(p)) {
            throw new IllegalStateException(p + " is missing or not executable: run `make build` first");
        }
        return p;
    }

    /**
     * A port that was free on {@code bind} a moment ago. For programs that cannot report the
     * port they bound themselves; a race with another process is possible but rare on loopback.
     */
    public static int freePort(InetAddress bind) {
        // Below the ephemeral range, free on every address: a server started there a moment later
        // cannot collide with the local end of some outgoing connection (see SecFiles).
        return SecFiles.freeListenPort();
    }

    /** An address from a literal such as {@code "127.0.0.3"}, without a checked exception. */
    public static InetAddress addr(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an address: " + literal, e);
        }
    }
}
