package rtunnel.it.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real {@code ./fixed_rtunnel} in the foreground ({@code --debug}, log on stderr) with its key,
 * certificate, state file and control socket in a test directory, plus the control calls and the
 * {@code ./dynamic_rtunnel} processes a test runs against it. {@link #close()} stops every
 * process this fixture started, by pid.
 */
public final class FixedServer implements AutoCloseable {

    public static final InetAddress LOCAL = Launchers.addr("127.0.0.1");
    /** A control call is one short JVM run; this only guards against a hang. */
    public static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static final Pattern TUNNEL = Pattern.compile(
            "Tunnel: id:(\\d+) port:(\\d+) remoteip:(\\S+) hostname:(\\S*)"
                    + " timestamp:(\\w{3} \\w{3} +\\d{1,2} \\d\\d:\\d\\d:\\d\\d \\d{4})((?: \\S+:\\S*)*)");

    private final Path dir;
    private final int port;
    private final String password;
    private final Procs proc;
    private final List<Procs> dynamics = new ArrayList<>();
    private int dynamicCount;

    private FixedServer(Path dir, int port, String password, Procs proc) {
        this.dir = dir;
        this.port = port;
        this.password = password;
        this.proc = proc;
    }

    /** One line of {@code --list-tunnels}. */
    public record Tunnel(int id, int port, String remoteip, String hostname, String timestamp,
            int protocol, int sessions, String line) {
    }

    /**
     * Starts fixed_rtunnel on a free port with its files in {@code dir} (created if needed).
     * {@code password} null leaves out {@code --password}; {@code extra} are more server options.
     * Returns once the control socket answers.
     */
    public static FixedServer start(Path dir, String password, String... extra) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AssertionError last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            int port = Launchers.freePort(LOCAL);
            List<String> cmd = new ArrayList<>(List.of(Launchers.fixedRtunnel().toString(),
                    "--debug", "--notroot", "--port=" + port,
                    "--socketname=" + dir.resolve("ctl.sock"),
                    "--keyfile=" + dir.resolve("fixed.key"),
                    "--certfile=" + dir.resolve("fixed.cert"),
                    // Never the shared default in the home directory: tests must not see each other's allowlists.
                    "--statefile=" + dir.resolve("fixed.state")));
            if (password != null) {
                cmd.add("--password=" + password);
            }
            cmd.addAll(List.of(extra));
            Procs p = Procs.start(dir, "fixed-" + port, cmd);
            FixedServer f = new FixedServer(dir, port, password, p);
            try {
                Procs.waitFor(START_TIMEOUT, () -> {
                    if (!p.isAlive()) {
                        throw new AssertionError("fixed_rtunnel exited at start:\n" + p.output());
                    }
                    return Files.exists(f.socket()) && f.control("--lastip-tunnel").exit() == 0;
                }, "fixed_rtunnel answering on " + f.socket());
                return f;
            } catch (AssertionError e) {
                p.stop();
                last = e;
            }
        }
        throw last;
    }

    public int port() {
        return port;
    }

    public Path dir() {
        return dir;
    }

    public Path socket() {
        return dir.resolve("ctl.sock");
    }

    public long pid() {
        return proc.pid();
    }

    public boolean isAlive() {
        return proc.isAlive();
    }

    /** The server's log so far (stderr with --debug). */
    public String log() {
        return proc.output();
    }

    /** Runs {@code fixed_rtunnel --socketname=S args...} to its end. */
    public Procs.Result control(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Launchers.fixedRtunnel().toString(), "--socketname=" + socket()));
        cmd.addAll(List.of(args));
        return Procs.runToEnd(cmd, CONTROL_TIMEOUT);
    }

    /** As {@link #control}, failing unless it exits 0 with nothing on stderr; returns stdout. */
    public String controlOk(String... args) {
        Procs.Result r = control(args);
        assertEquals(0, r.exit(), () -> "control " + List.of(args) + " failed: " + r + "\nserver log:\n" + log());
        assertEquals("", r.stderr(), () -> "control " + List.of(args) + " wrote to stderr: " + r);
        return r.stdout();
    }

    /** The current {@code --list-tunnels}; fails on a line it cannot parse. */
    public List<Tunnel> tunnels() {
        List<Tunnel> out = new ArrayList<>();
        for (String line : controlOk("--list-tunnels").split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            Matcher m = TUNNEL.matcher(line);
            if (!m.matches()) {
                throw new AssertionError("unexpected --list-tunnels line: " + line);
            }
            // Fields after the original's (protocol, sessions, ...) are key:value words.
            Map<String, String> more = new HashMap<>();
            for (String kv : m.group(6).strip().split(" ")) {
                int c = kv.indexOf(':');
                if (c > 0) {
                    more.put(kv.substring(0, c), kv.substring(c + 1));
                }
            }
            out.add(new Tunnel(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), m.group(3), m.group(4),
                    m.group(5), intField(more, "protocol"), intField(more, "sessions"), line));
        }
        return out;
    }

    private static int intField(Map<String, String> fields, String key) {
        String v = fields.get(key);
        return v == null || !v.matches("\\d+") ? -1 : Integer.parseInt(v);
    }

    /** Polls {@code --list-tunnels} until a tunnel matches; fails with both logs on timeout. */
    public Tunnel awaitTunnel(Duration timeout, Predicate<Tunnel> which, String what) {
        AtomicReference<Tunnel> found = new AtomicReference<>();
        try {
            Procs.waitFor(timeout, () -> {
                Optional<Tunnel> t = tunnels().stream().filter(which).findFirst();
                t.ifPresent(found::set);
                return t.isPresent();
            }, what);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + describe(), e);
        }
        return found.get();
    }

    /** Polls until no listed tunnel matches. */
    public void awaitNoTunnel(Duration timeout, Predicate<Tunnel> which, String what) {
        try {
            Procs.waitFor(timeout, () -> tunnels().stream().noneMatch(which), what);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + describe(), e);
        }
    }

    /** Checks for {@code period} (about every 250 ms) that no listed tunnel matches. */
    public void assertNoTunnelFor(Duration period, Predicate<Tunnel> which, String what) {
        long deadline = System.nanoTime() + period.toNanos();
        for (int i = 0; i < period.toMillis() / 250 + 2; i++) {
            List<Tunnel> ts = tunnels();
            if (ts.stream().anyMatch(which)) {
                throw new AssertionError(what + ", but the listing shows " + ts + "\n" + describe());
            }
            if (System.nanoTime() >= deadline) {
                return;
            }
            sleep(250);
        }
    }

    /**
     * Starts {@code ./dynamic_rtunnel --debug --notroot --remoteip=127.0.0.1 --remoteport=P}
     * with this server's password (unless {@code args} give one), a known-servers file in this
     * server's directory (unless {@code args} choose how to verify the server) and {@code args};
     * stopped by {@link #close()}.
     */
    public Procs startDynamic(String... args) {
        return startDynamic(Map.of(), args);
    }

    /** As {@link #startDynamic(String...)}, with these environment variables added. */
    public Procs startDynamic(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Launchers.dynamicRtunnel().toString(), "--debug", "--notroot",
                "--remoteip=127.0.0.1", "--remoteport=" + port));
        boolean ownPassword = List.of(args).stream().anyMatch(a -> a.startsWith("--password="));
        if (password != null && !ownPassword) {
            cmd.add("--password=" + password);
        }
        if (List.of(args).stream().noneMatch(a -> a.startsWith("--known-servers=") || a.startsWith("--insecure")
                || a.startsWith("--server-fingerprint=") || a.startsWith("--cafile="))) {
            // Trust on first use, remembered in this test's directory: every test server has a fresh
            // key, and ports get reused, so a shared known-servers file would see "changed" keys.
            cmd.add("--known-servers=" + dir.resolve("known_servers"));
        }
        cmd.addAll(List.of(args));
        Procs p = Procs.start(dir, "dynamic-" + (++dynamicCount), cmd, env);
        dynamics.add(p);
        return p;
    }

    /** The server's log and every dynamic_rtunnel's, for failure messages. */
    public String describe() {
        StringBuilder b = new StringBuilder("--- fixed_rtunnel log:\n").append(log());
        for (Procs d : dynamics) {
            b.append("--- ").append(d).append(" log:\n").append(d.output());
        }
        return b.toString();
    }

    /** Stops every dynamic_rtunnel started here, then the server. */
    @Override
    public void close() {
        dynamics.forEach(Procs::stop);
        proc.stop();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
