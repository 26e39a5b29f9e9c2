import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Our own sshd on a free loopback port, and `ssh -N -R` forwards through it. */
final class Ssh {
    private final Bench bench;
    private final Path dir;
    int sshdPort;
    private Process sshd;
    private final Map<String, Process> forwards = new HashMap<>();
    private final Map<String, Integer> ports = new HashMap<>();

    Ssh(Bench bench) {
        this.bench = bench;
        this.dir = bench.dir.resolve("ssh");
    }

    void startSshd() throws Exception {
        Files.createDirectories(dir);
        Files.createDirectories(Path.of("/run/sshd")); // sshd's privilege separation directory
        Procs.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("host").toString()), 30);
        Procs.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("id").toString()), 30);
        Files.copy(dir.resolve("id.pub"), dir.resolve("authorized_keys"));
        sshdPort = Bench.freePort();
        Files.writeString(dir.resolve("sshd_config"), String.join("\n",
                "Port " + sshdPort, "ListenAddress 127.0.0.1", "HostKey " + dir.resolve("host"),
                "PidFile " + dir.resolve("sshd.pid"), "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                "PermitRootLogin yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "UsePAM no", "StrictModes no", "AllowTcpForwarding yes", "MaxStartups 100", "MaxSessions 100",
                "LogLevel ERROR", ""));
        sshd = bench.procs.start("sshd", List.of("/usr/sbin/sshd", "-D", "-e", "-f",
                dir.resolve("sshd_config").toString()));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            try (var s = new java.net.Socket("127.0.0.1", sshdPort)) {
                return;
            } catch (IOException e) {
                if (!sshd.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("sshd did not start; see " + bench.dir + "/sshd-*.log");
                }
                Service.sleepMs(20);
            }
        }
    }

    private List<String> command(int remotePort, int viaPort, List<String> extra) {
        List<String> cmd = new ArrayList<>(List.of("ssh", "-F", "/dev/null", "-N", "-R",
                remotePort + ":127.0.0.1:" + bench.servicePort, "-p", Integer.toString(viaPort), "-i",
                dir.resolve("id").toString(), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", "-o", "LogLevel=ERROR"));
        cmd.addAll(extra);
        cmd.add("root@127.0.0.1");
        return cmd;
    }

    /** Starts `ssh -R` with OpenSSH defaults plus EXTRA and waits until its remote port gives sessions. */
    void startForward(String name, List<String> extra) throws Exception {
        start(name, sshdPort, extra);
    }

    void startForwardVia(String name, int viaPort) throws Exception {
        start(name, viaPort, List.of());
    }

    private void start(String name, int viaPort, List<String> extra) throws Exception {
        int remote = Bench.freePort();
        Process p = bench.procs.start("ssh-" + name, command(remote, viaPort, extra));
        forwards.put(name, p);
        ports.put(name, remote);
        Service.connectBanner(remote, 20_000).close();
    }

    int port(String name) {
        return ports.get(name);
    }

    /** Milliseconds from starting `ssh -R` to its remote port giving a session. */
    double timeToAccept() throws Exception {
        int remote = Bench.freePort();
        long t0 = System.nanoTime();
        Process p = bench.procs.start("ssh-ts", command(remote, sshdPort, List.of()));
        Service.connectBanner("127.0.0.1", remote, t0 + 20_000_000_000L, 1000).close();
        double ms = (System.nanoTime() - t0) / 1e6;
        bench.procs.stop(p);
        return ms;
    }

    void stop(String name) {
        bench.procs.stop(forwards.remove(name));
    }

    void stopAll() {
        for (String n : List.copyOf(forwards.keySet())) {
            stop(n);
        }
        bench.procs.stop(sshd);
    }
}
