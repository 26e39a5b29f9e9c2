package rtunnel.it.support;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real OpenSSH sshd in the foreground on a loopback address, with its own keys and config in a
 * temp directory: the service the tunnel is built for, so the tests carry real ssh sessions.
 */
public final class Sshd implements AutoCloseable {

    /** sshd refuses to start unless run by absolute path (it re-executes itself). */
    private static final Path SSHD = Path.of("/usr/sbin/sshd");
    /** Privilege-separation directory sshd requires when it runs as root. */
    private static final Path PRIVSEP_DIR = Path.of("/run/sshd");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
    private static final String USER = System.getProperty("user.name");

    private final InetAddress address;
    private final int port;
    private final Path dir;
    private final Path clientKey;
    private final Procs proc;

    private Sshd(InetAddress address, int port, Path dir, Path clientKey, Procs proc) {
        this.address = address;
        this.port = port;
        this.dir = dir;
        this.clientKey = clientKey;
        this.proc = proc;
    }

    /**
     * Starts sshd on {@code address} and a free port, keeping its files in {@code dir} (a fresh,
     * empty directory). Skips the test if OpenSSH's server is not installed (CI installs it).
     * Returns once the port accepts connections.
     */
    public static Sshd start(Path dir, InetAddress address) throws IOException {
        assumeTrue(Files.isExecutable(SSHD), SSHD + " not installed (apt-get install openssh-server)");
        Files.createDirectories(dir);
        if ("root".equals(USER) && !Files.isDirectory(PRIVSEP_DIR)) {
            Files.createDirectories(PRIVSEP_DIR, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        Path hostKey = keygen(dir.resolve("host_ed25519"));
        Path clientKey = keygen(dir.resolve("client_ed25519"));
        Path authorized = dir.resolve("authorized_keys");
        Files.copy(Path.of(clientKey + ".pub"), authorized);

        // A port taken between freePort() and sshd's bind makes sshd exit at once: try again.
        AssertionError last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            int port = Launchers.freePort(address);
            Path config = writeConfig(dir, address, port, hostKey, authorized);
            Procs proc = Procs.start(dir, "sshd-" + port,
                    List.of(SSHD.toString(), "-D", "-e", "-f", config.toString()));
            try {
                Procs.waitFor(START_TIMEOUT, () -> {
                    if (!proc.isAlive()) {
                        throw new AssertionError("sshd exited at start:\n" + proc.output());
                    }
                    return accepts(address, port);
                }, "sshd listening on " + address.getHostAddress() + ":" + port);
                return new Sshd(address, port, dir, clientKey, proc);
            } catch (AssertionError e) {
                proc.stop();
                last = e;
            }
        }
        throw last;
    }

    private static Path keygen(Path key) {
        Procs.Result r = Procs.runToEnd(List.of("ssh-keygen", "-q", "-N", "", "-t", "ed25519",
                "-C", "rtunnel-it", "-f", key.toString()), Duration.ofSeconds(30));
        if (r.exit() != 0) {
            throw new AssertionError("ssh-keygen failed for " + key + ": " + r);
        }
        return key;
    }

    private static Path writeConfig(Path dir, InetAddress address, int port, Path hostKey, Path authorized)
            throws IOException {
        Path config = dir.resolve("sshd_config");
        Files.writeString(config, String.join("\n",
                "ListenAddress " + address.getHostAddress(),
                "Port " + port,
                "HostKey " + hostKey.toAbsolutePath(),
                "AuthorizedKeysFile " + authorized.toAbsolutePath(),
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "PidFile " + dir.resolve("sshd.pid").toAbsolutePath(),
                "PermitRootLogin yes",
                "PrintMotd no",
                ""));
        return config;
    }

    private static boolean accepts(InetAddress address, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public InetAddress address() {
        return address;
    }

    public int port() {
        return port;
    }

    public Path dir() {
        return dir;
    }

    /** Private key the client must use; its public half is in authorized_keys. */
    public Path clientKey() {
        return clientKey;
    }

    /** sshd's own log (it runs with {@code -e}), to print when a test fails. */
    public String log() {
        return proc.output();
    }

    /**
     * The argv of an {@code ssh} that logs in as the current user to {@code host:port} (sshd's own
     * port, or a tunnel port leading to it) and runs {@code remoteCommand}.
     */
    public List<String> sshCommand(int port, String host, String... remoteCommand) {
        return sshCommandFrom(null, port, host, remoteCommand);
    }

    /** As {@link #sshCommand}, with the client socket bound to {@code bindAddr} ({@code ssh -b}). */
    public List<String> sshCommandFrom(String bindAddr, int port, String host, String... remoteCommand) {
        List<String> cmd = new ArrayList<>(List.of("ssh", "-F", "/dev/null"));
        if (bindAddr != null) {
            cmd.addAll(List.of("-b", bindAddr));
        }
        cmd.addAll(List.of("-p", Integer.toString(port), "-i", clientKey.toString(),
                "-o", "IdentitiesOnly=yes",
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes",
                "-o", "LogLevel=ERROR",
                "-o", "ConnectTimeout=10",
                USER + "@" + host));
        cmd.addAll(List.of(remoteCommand));
        return cmd;
    }

    /** Stops sshd by pid (its session children too). */
    @Override
    public void close() {
        proc.stop();
    }
}
