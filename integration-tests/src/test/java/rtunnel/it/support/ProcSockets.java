package rtunnel.it.support;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** A process's TCP sockets as /proc shows them: which descriptor holds a connection, and its file status flags. */
public final class ProcSockets {
    /** O_NONBLOCK in the octal flags of /proc/PID/fdinfo/FD (x86-64 and arm64 Linux). */
    private static final int O_NONBLOCK = 04000;

    private ProcSockets() {
    }

    /**
     * Whether {@code pid}'s established TCP connection with local port {@code localPort} (0: any)
     * and remote port {@code remotePort} (0: any) is non-blocking; empty if it has no such socket.
     */
    public static Optional<Boolean> nonBlocking(long pid, int localPort, int remotePort) throws IOException {
        for (String inode : inodes(pid, localPort, remotePort)) {
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
                for (Path fd : fds) {
                    String target;
                    try {
                        target = Files.readSymbolicLink(fd).toString();
                    } catch (IOException e) {
                        continue; // closed meanwhile
                    }
                    if (target.equals("socket:[" + inode + "]")) {
                        return Optional.of((flags(pid, fd.getFileName().toString()) & O_NONBLOCK) != 0);
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static int flags(long pid, String fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring(6).trim(), 8);
            }
        }
        throw new IOException("no flags in /proc/" + pid + "/fdinfo/" + fd);
    }

    /**
     * Inodes of established connections in /proc/PID/net/tcp and tcp6 (where a JVM's sockets are,
     * IPv4 ones as mapped addresses) matching the ports.
     */
    private static List<String> inodes(long pid, int localPort, int remotePort) throws IOException {
        List<String> lines = new java.util.ArrayList<>();
        for (String table : List.of("tcp", "tcp6")) {
            List<String> all = Files.readAllLines(Path.of("/proc/" + pid + "/net/" + table));
            lines.addAll(all.subList(Math.min(1, all.size()), all.size()));
        }
        return lines.stream()
                .map(l -> l.trim().split("\\s+"))
                .filter(f -> f.length > 9 && f[3].equals("01")) // ESTABLISHED
                .filter(f -> localPort == 0 || port(f[1]) == localPort)
                .filter(f -> remotePort == 0 || port(f[2]) == remotePort)
                .map(f -> f[9])
                .toList();
    }

    private static int port(String hexAddress) {
        return Integer.parseInt(hexAddress.substring(hexAddress.indexOf(':') + 1), 16);
    }
}
