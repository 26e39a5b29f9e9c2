package rtunnel.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
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
 * A {@code ./fixed_rtunnel --foreground} that can be killed and started again on the same TLS
 * port, control socket and state file (the reliability tests restart it; {@link FixedServer}
 * picks a new port at every start). Control requests go through {@link SecControl}, one short
 * connection each, so a test can poll the listing many times a second without a JVM per call;
 * {@link #cli} runs the real control client where its output is what is tested.
 * {@link #close()} stops every process started here, by pid.
 */
public final class RelServer implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern TUNNEL = Pattern.compile(
            "Tunnel: id:(\\d+) port:(\\d+) remoteip:(\\S+) hostname:(\\S*)"
                    + " timestamp:(\\w{3} \\w{3} +\\d{1,2} \\d\\d:\\d\\d:\\d\\d \\d{4})((?: \\S+:\\S*)*)");

    private final Path dir;
    private int port;
    private final String password;
    private final Path stateFile;
    private final List<String> extra;
    private final List<Procs> servers = new ArrayList<>();
    private final List<Procs> dynamics = new ArrayList<>();
    private Procs proc;
    private int dynamicCount;

    private RelServer(Path dir, int port, String password, Path stateFile, List<String> extra) {
        this.dir = dir;
        this.port = port;
        this.password = password;
        this.stateFile = stateFile;
        this.extra = extra;
    }

    /**
     * A server with its files in {@code dir} (created), a free TLS port kept across restarts, the
     * state file {@code stateFile} (null: {@code dir/fixed.state}) and {@code extra} options.
     * Not started yet.
     */
    public static RelServer create(Path dir, String password, Path stateFile, String... extra) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new RelServer(dir, Launchers.freePort(FixedServer.LOCAL), password,
                stateFile == null ? dir.resolve("fixed.state") : stateFile, List.of(extra));
    }

    /**
     * Starts the server and waits until its control socket answers a request; returns
     * {@link System#nanoTime()} at that moment (the TLS port is bound before the control socket).
     */
    public long start() {
        // Only the first start may move to another port: a restart must keep the old one.
        for (int attempt = 1; ; attempt++) {
            try {
                return startOnce();
            } catch (AssertionError e) {
                boolean raced = servers.size() == 1 && proc != null && proc.output().contains("cannot listen on port");
                if (!raced || attempt >= 3) {
                    throw e;
                }
                proc.stop();
                servers.clear();
                port = Launchers.freePort(FixedServer.LOCAL);
            }
        }
    }

    private long startOnce() {
        if (proc != null && proc.isAlive()) {
            throw new IllegalStateException("fixed_rtunnel already running: " + proc);
        }
        List<String> cmd = new ArrayList<>(List.of(Launchers.fixedRtunnel().toString(), "--foreground", "--notroot",
                "--port=" + port, "--socketname=" + socket(), "--keyfile=" + dir.resolve("fixed.key"),
                "--certfile=" + dir.resolve("fixed.cert"), "--statefile=" + stateFile, "--password=" + password));
        cmd.addAll(extra);
        Procs p = Procs.start(dir, "fixed-" + (servers.size() + 1), cmd);
        servers.add(p);
        proc = p;
        long[] answered = new long[1];
        try {
            Procs.waitFor(START_TIMEOUT, () -> {
                if (!p.isAlive()) {
                    throw new AssertionError("fixed_rtunnel exited at start:\n" + p.output());
                }
                if (!Files.exists(socket())) {
                    return false;
                }
                try (SecControl c = SecControl.open(socket())) {
                    if (c.request("lastip-tunnel", null).ok()) {
                        answered[0] = System.nanoTime();
                        return true;
                    }
                } catch (IOException e) {
                    // Not listening yet (or a stale socket file of the killed server).
                }
                return false;
            }, "fixed_rtunnel answering on " + socket());
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + describe(), e);
        }
        return answered[0];
    }

    /** SIGKILL to the server (a crash: no shutdown hook runs); waits until it is gone. */
    public void kill9() {
        V2Fixture.killHard(proc);
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

    public Path stateFile() {
        return stateFile;
    }

    public String password() {
        return password;
    }

    /** The running server's pid (the JVM: the launcher execs java). */
    public long pid() {
        return proc.pid();
    }

    public boolean isAlive() {
        return proc != null && proc.isAlive();
    }

    /** The current server process's log. */
    public String log() {
        return proc == null ? "" : proc.output();
    }

    /** One request on the control socket; IOException if the socket does not answer. */
    public SecControl.Reply request(String command, String arg) throws IOException {
        try (SecControl c = SecControl.open(socket())) {
            return c.request(command, arg);
        }
    }

    /** As {@link #request}, failing unless the answer is {@code ok}; returns its lines. */
    public List<String> ok(String command, String arg) {
        SecControl.Reply r;
        try {
            r = request(command, arg);
        } catch (IOException e) {
            throw new AssertionError("control request " + command + " " + arg + " failed: " + e + "\n" + describe(), e);
        }
        if (!r.ok()) {
            throw new AssertionError("control request " + command + " " + arg + " refused: " + r.lines());
        }
        return r.lines();
    }

    /** Runs the real control client {@code fixed_rtunnel --socketname=S args...} to its end. */
    public Procs.Result cli(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Launchers.fixedRtunnel().toString(), "--socketname=" + socket()));
        cmd.addAll(List.of(args));
        return Procs.runToEnd(cmd, FixedServer.CONTROL_TIMEOUT);
    }

    /** The current listing, parsed like {@link FixedServer#tunnels()}. */
    public List<FixedServer.Tunnel> tunnels() {
        List<FixedServer.Tunnel> out = new ArrayList<>();
        for (String line : ok("list-tunnels", null)) {
            Matcher m = TUNNEL.matcher(line);
            if (!m.matches()) {
                throw new AssertionError("unexpected list-tunnels line: " + line);
            }
            Map<String, String> more = new HashMap<>();
            for (String kv : m.group(6).strip().split(" ")) {
                int c = kv.indexOf(':');
                if (c > 0) {
                    more.put(kv.substring(0, c), kv.substring(c + 1));
                }
            }
            out.add(new FixedServer.Tunnel(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), m.group(3),
                    m.group(4), m.group(5), intField(more, "protocol"), intField(more, "sessions"), line));
        }
        return out;
    }

    private static int intField(Map<String, String> fields, String key) {
        String v = fields.get(key);
        return v == null || !v.matches("\\d+") ? -1 : Integer.parseInt(v);
    }

    /** The tunnel named {@code hostname} with protocol 2, if listed. */
    public Optional<FixedServer.Tunnel> v2(String hostname) {
        return tunnels().stream().filter(t -> t.hostname().equals(hostname) && t.protocol() == 2).findFirst();
    }

    /** Polls the listing (every 50 ms) until a tunnel matches; fails with the logs on timeout. */
    public FixedServer.Tunnel awaitTunnel(Duration timeout, Predicate<FixedServer.Tunnel> which, String what) {
        AtomicReference<FixedServer.Tunnel> found = new AtomicReference<>();
        try {
            Procs.waitFor(timeout, () -> {
                Optional<FixedServer.Tunnel> t = tunnels().stream().filter(which).findFirst();
                t.ifPresent(found::set);
                return t.isPresent();
            }, what);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + describe(), e);
        }
        return found.get();
    }

    /** Waits for the protocol 2 tunnel named {@code hostname}. */
    public FixedServer.Tunnel awaitV2(String hostname, Duration timeout) {
        return awaitTunnel(timeout, t -> t.hostname().equals(hostname) && t.protocol() == 2,
                "a protocol 2 tunnel for " + hostname);
    }

    /** Polls until no listed tunnel matches. */
    public void awaitNoTunnel(Duration timeout, Predicate<FixedServer.Tunnel> which, String what) {
        try {
            Procs.waitFor(timeout, () -> tunnels().stream().noneMatch(which), what);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + describe(), e);
        }
    }

    /**
     * Starts {@code ./dynamic_rtunnel --foreground --notroot} from {@code source} named
     * {@code hostname} exposing 127.0.0.1:{@code localPort}, dialing this server (or, when
     * {@code args} give {@code --remoteport}, that port) with this server's password and a
     * known-servers file in this server's directory; stopped by {@link #close()}.
     */
    public Procs startDynamic(String source, String hostname, int localPort, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Launchers.dynamicRtunnel().toString(), "--foreground",
                "--notroot", "--remoteip=127.0.0.1", "--password=" + password,
                "--known-servers=" + dir.resolve("known_servers"), "--source-ip=" + source,
                "--hostname=" + hostname, "--localport=" + localPort));
        if (List.of(args).stream().noneMatch(a -> a.startsWith("--remoteport="))) {
            cmd.add("--remoteport=" + port);
        }
        cmd.addAll(List.of(args));
        Procs p = Procs.start(dir, "dynamic-" + (++dynamicCount) + "-" + hostname, cmd);
        dynamics.add(p);
        return p;
    }

    /** Every server run's log and every dynamic_rtunnel's (the tail of each), for failure messages. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (Procs s : servers) {
            b.append("--- ").append(s).append(" log:\n").append(tail(s.output()));
        }
        for (Procs d : dynamics) {
            b.append("--- ").append(d).append(" log:\n").append(tail(d.output()));
        }
        return b.toString();
    }

    /**
     * Every log line (of every process) matching {@code regex}, at most 300 per process: for a
     * failure in a long run, where the tail has scrolled past what matters.
     */
    public String describe(String regex) {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex);
        StringBuilder b = new StringBuilder();
        List<Procs> all = new ArrayList<>(servers);
        all.addAll(dynamics);
        for (Procs x : all) {
            b.append("--- ").append(x).append(" lines matching ").append(regex).append(":\n");
            x.output().lines().filter(l -> p.matcher(l).find()).limit(300).forEach(l -> b.append(l).append('\n'));
        }
        return b.toString();
    }

    /** The last 150 lines: a churn run logs thousands, the end is what explains a failure. */
    static String tail(String text) {
        List<String> lines = text.lines().toList();
        int from = Math.max(0, lines.size() - 150);
        return (from > 0 ? "[" + from + " earlier lines]\n" : "") + String.join("\n", lines.subList(from, lines.size()))
                + "\n";
    }

    /** Stops every dynamic_rtunnel started here, then every server run. */
    @Override
    public void close() {
        dynamics.forEach(Procs::stop);
        servers.forEach(Procs::stop);
    }
}
