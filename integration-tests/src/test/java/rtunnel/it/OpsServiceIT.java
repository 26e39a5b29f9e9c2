package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.DatagramPacket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXDatagramSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

import rtunnel.it.support.FixedServer;
import rtunnel.it.support.Launchers;
import rtunnel.it.support.Procs;
import rtunnel.it.support.SecFiles;
import rtunnel.it.support.Sshd;

/**
 * Running it as a service (issue 5): the background start tells the truth, systemd's readiness
 * notification, config files, reaching a device by name through ssh's ProxyCommand, and the
 * audit line of a session.
 */
class OpsServiceIT {
    private static final String PASSWORD = "5e77ab1e0dd5eed5";
    private final List<AutoCloseable> open = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void stopAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private List<String> server(int port, String... extra) {
        List<String> cmd = new ArrayList<>(List.of(Launchers.fixedRtunnel().toString(), "--notroot",
                "--port=" + port, "--socketname=" + dir.resolve("ctl.sock"), "--keyfile=" + dir.resolve("k"),
                "--certfile=" + dir.resolve("c"), "--statefile=" + dir.resolve("state"),
                "--password=" + PASSWORD));
        cmd.addAll(List.of(extra));
        return cmd;
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void backgroundStartReturnsOnlyOnceServingAndReportsFailures() throws Exception {
        int port = SecFiles.freeListenPort();
        Path pidFile = dir.resolve("fixed.pid");
        Procs.Result started = Procs.runToEnd(server(port, "--logfile=" + dir.resolve("log"),
                "--pidfile=" + pidFile), Duration.ofSeconds(60));
        long pid = Procs.readPid(pidFile).orElseThrow(() -> new AssertionError("no pid file: " + started));
        open.add(() -> Procs.stopPid(pid));
        assertEquals(0, started.exit(), started.toString());
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the pid file holds a live pid");
        // Serving at once, with no waiting: the command returned only after the server listened.
        Procs.Result list = Procs.runToEnd(List.of(Launchers.fixedRtunnel().toString(),
                "--socketname=" + dir.resolve("ctl.sock"), "--list-tunnels"), Duration.ofSeconds(30));
        assertEquals(0, list.exit(), list.toString());

        // A second server on the same port: the reason on the terminal, non-zero, within 5 s.
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        long t0 = System.nanoTime();
        Procs.Result taken = Procs.runToEnd(List.of(Launchers.fixedRtunnel().toString(), "--notroot",
                "--port=" + port, "--socketname=" + other.resolve("ctl.sock"), "--keyfile=" + dir.resolve("k"),
                "--certfile=" + dir.resolve("c"), "--statefile=none", "--logfile=" + other.resolve("log")),
                Duration.ofSeconds(30));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(taken.exit() != 0, taken.toString());
        assertTrue(taken.stderr().contains("cannot listen on port " + port), taken.toString());
        assertEquals(1, taken.stderr().strip().lines().count(), "one line: " + taken);
        assertTrue(ms < 5000, "failed start reported after " + ms + " ms");
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void readyIsSentToTheNotifySocketOnceListening() throws Exception {
        // The JDK has no Unix datagram sockets; junixsocket (which the server uses too) does.
        Path notify = dir.resolve("notify.sock");
        try (AFUNIXDatagramSocket ch = AFUNIXDatagramSocket.newInstance()) {
            ch.bind(AFUNIXSocketAddress.of(notify));
            ch.setSoTimeout(200);
            int port = SecFiles.freeListenPort();
            Procs p = Procs.start(dir, "fixed", server(port, "--foreground"), Map.of("NOTIFY_SOCKET", notify.toString()));
            open.add(p);
            DatagramPacket packet = new DatagramPacket(new byte[1024], 1024);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try {
                    ch.receive(packet);
                    break;
                } catch (java.net.SocketTimeoutException e) {
                    assertTrue(p.isAlive(), "server died: " + p.output());
                    assertTrue(System.nanoTime() < deadline, "no READY=1 within 60 s: " + p.output());
                }
            }
            String msg = new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8);
            assertTrue(msg.contains("READY=1"), msg);
            assertTrue(msg.contains("MAINPID=" + p.pid()), msg);
            // Ready means ready: the TLS port accepts and the control socket answers right now.
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new InetSocketAddress(FixedServer.LOCAL, port), 2000);
            }
            assertEquals(0, Procs.runToEnd(List.of(Launchers.fixedRtunnel().toString(),
                    "--socketname=" + dir.resolve("ctl.sock"), "--lastip-tunnel"), Duration.ofSeconds(30)).exit());
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aConfigFileSetsOptionsTheCommandLineWinsAndUnknownKeysAreErrors() throws Exception {
        int filePort = SecFiles.freeListenPort();
        int flagPort = SecFiles.freeListenPort();
        Path conf = dir.resolve("fixed.conf");
        Files.writeString(conf, """
                # fixed_rtunnel settings
                notroot
                port = %d
                maxtunnels = 3
                --socketname = %s
                keyfile = %s
                certfile = %s
                statefile = none
                password = %s
                """.formatted(filePort, dir.resolve("ctl.sock"), dir.resolve("k"), dir.resolve("c"), PASSWORD));
        Procs p = Procs.start(dir, "fixed-conf", List.of(Launchers.fixedRtunnel().toString(), "--config=" + conf,
                "--foreground", "--port=" + flagPort));
        open.add(p);
        Procs.waitFor(Duration.ofSeconds(60), () -> p.output().contains("listening on port"), "server start");
        assertTrue(p.output().contains("listening on port " + flagPort), "the flag wins over the file: " + p.output());
        assertTrue(p.output().contains("control socket " + dir.resolve("ctl.sock")), "the file set the socket: " + p.output());

        Files.writeString(dir.resolve("bad.conf"), "port = 7000\nmax-tunnels = 3\n");
        Procs.Result bad = Procs.runToEnd(List.of(Launchers.fixedRtunnel().toString(),
                "--config=" + dir.resolve("bad.conf"), "--foreground"), Duration.ofSeconds(30));
        assertEquals(2, bad.exit(), bad.toString());
        assertTrue(bad.stderr().contains("line 2") && bad.stderr().contains("'max-tunnels'"), bad.toString());
        assertEquals(1, bad.stderr().strip().lines().count(), bad.toString());
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void sshReachesADeviceByNameThroughProxyCommandAndTheSessionIsAudited() throws Exception {
        Sshd sshd = Sshd.start(dir.resolve("sshd"), FixedServer.LOCAL);
        open.add(sshd);
        FixedServer fixed = FixedServer.start(dir.resolve("fixed"), PASSWORD);
        open.add(fixed);
        fixed.controlOk("--addip-tunnel=127.0.0.2", "--addip-client=127.0.0.1");
        fixed.startDynamic("--source-ip=127.0.0.2", "--localport=" + sshd.port(), "--hostname=cam1");
        FixedServer.Tunnel t = fixed.awaitTunnel(Duration.ofSeconds(60), x -> x.hostname().equals("cam1"), "tunnel of cam1");

        Procs.Result port = fixed.control("--port-of=cam1");
        assertEquals(0, port.exit(), port.toString());
        assertEquals(Integer.toString(t.port()), port.stdout().strip());
        Procs.Result none = fixed.control("--port-of=nosuchbox");
        assertEquals(1, none.exit(), none.toString());

        // ssh resolves nothing itself: the ProxyCommand finds the port by name and relays.
        List<String> ssh = new ArrayList<>(sshd.sshCommand(22, "cam1", "echo", "reached-by-name"));
        ssh.addAll(1, List.of("-o", "ProxyCommand=" + Launchers.fixedRtunnel() + " --socketname=" + fixed.socket()
                + " --connect=%h"));
        Procs.Result r = Procs.runToEnd(ssh, Duration.ofSeconds(60));
        assertEquals(0, r.exit(), r + "\n" + fixed.describe());
        assertEquals("reached-by-name", r.stdout().strip());

        // The audit line: tunnel id, the client's source address and port, bytes, duration.
        Pattern audit = Pattern.compile("tunnel " + t.id() + ": session \\d+ from 127\\.0\\.0\\.1:(\\d+) ended: "
                + "(\\d+) bytes from client, (\\d+) bytes to client, (\\d+) ms");
        Procs.waitFor(Duration.ofSeconds(20), () -> audit.matcher(fixed.log()).find(), "audit line in " + fixed.log());
        Matcher m = audit.matcher(fixed.log());
        assertTrue(m.find());
        assertTrue(Long.parseLong(m.group(2)) > 0 && Long.parseLong(m.group(3)) > 0, m.group());
        assertFalse(fixed.log().contains(PASSWORD), "no password in the log");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void bothProgramsPrintTheirVersion() {
        for (Path launcher : List.of(Launchers.fixedRtunnel(), Launchers.dynamicRtunnel())) {
            Procs.Result v = Procs.runToEnd(List.of(launcher.toString(), "--version"), Duration.ofSeconds(30));
            assertEquals(0, v.exit(), v.toString());
            assertTrue(v.stdout().matches("(?s)(fixed|dynamic)_rtunnel \\d+\\.\\d+\\.\\d+.*"), v.stdout());
        }
    }
}
