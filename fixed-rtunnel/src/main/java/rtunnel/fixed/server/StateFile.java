package rtunnel.fixed.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import rtunnel.common.cli.RtunnelException;
import rtunnel.common.net.AddressRange;
import rtunnel.common.net.Allowlist;

/**
 * What survives a restart: both allowlists and the sticky ports. A small text file, one entry per
 * line, replaced atomically (temporary file, fsync, rename, fsync of the directory), so a crash at
 * any moment leaves the old file or the new one. A file that does not parse stops the server with
 * the line to fix; it is never silently emptied.
 *
 * <pre>
 * # fixed_rtunnel state v1
 * tunnel 203.0.113.7
 * client 192.168.1.0/24
 * port cam1 40001
 * device SHA256:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg
 * </pre>
 */
final class StateFile {
    static final String HEADER = "# fixed_rtunnel state v1";

    /** The saved state. */
    record State(List<Allowlist.Entry> tunnels, List<Allowlist.Entry> clients, Map<String, Integer> ports,
            List<String> devices) {
        static State empty() {
            return new State(List.of(), List.of(), Map.of(), List.of());
        }
    }

    private final Path file;

    StateFile(Path file) {
        this.file = file;
    }

    Path path() {
        return file;
    }

    State load() throws RtunnelException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return State.empty();
        } catch (IOException e) {
            throw RtunnelException.failure("cannot read state file " + file + ": " + e.getMessage(), e);
        }
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            throw corrupt(1, "the first line must be '" + HEADER + "'");
        }
        List<Allowlist.Entry> tunnels = new ArrayList<>();
        List<Allowlist.Entry> clients = new ArrayList<>();
        Map<String, Integer> ports = new LinkedHashMap<>();
        List<String> devices = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split(" ");
            try {
                switch (f[0]) {
                    case "tunnel" -> tunnels.add(entry(f));
                    case "client" -> clients.add(entry(f));
                    case "port" -> {
                        if (f.length != 3 || !f[2].matches("[0-9]{1,5}") || Integer.parseInt(f[2]) > 65535) {
                            throw new IllegalArgumentException("expected 'port HOSTNAME NUMBER'");
                        }
                        ports.put(f[1], Integer.parseInt(f[2]));
                    }
                    case "device" -> {
                        if (f.length != 2) {
                            throw new IllegalArgumentException("expected 'device SHA256:...'");
                        }
                        devices.add(rtunnel.common.tls.Fingerprints.canonical(f[1]));
                    }
                    default -> throw new IllegalArgumentException("unknown entry '" + f[0] + "'");
                }
            } catch (IllegalArgumentException e) {
                throw corrupt(i + 1, e.getMessage());
            }
        }
        return new State(tunnels, clients, ports, devices);
    }

    /** {@code KIND RANGE} or {@code KIND RANGE expires INSTANT}. */
    private static Allowlist.Entry entry(String[] f) {
        if (f.length == 2) {
            return new Allowlist.Entry(AddressRange.parse(f[1]), null);
        }
        if (f.length == 4 && f[2].equals("expires")) {
            try {
                return new Allowlist.Entry(AddressRange.parse(f[1]), java.time.Instant.parse(f[3]));
            } catch (java.time.format.DateTimeParseException e) {
                throw new IllegalArgumentException("bad expiry time '" + f[3] + "'");
            }
        }
        throw new IllegalArgumentException("expected '" + f[0] + " RANGE' or '" + f[0] + " RANGE expires TIME'");
    }

    private static String text(Allowlist.Entry e) {
        return e.range() + (e.expires() == null ? "" : " expires " + e.expires());
    }

    private RtunnelException corrupt(int line, String why) {
        return RtunnelException.failure("state file " + file + " line " + line + " is not valid (" + why
                + "); fix that line or move the file away (the server does not start on a damaged state)");
    }

    /** Replaces the file with {@code s}; returns only once the new contents are on disk. */
    synchronized void save(State s) throws IOException {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        s.tunnels().forEach(e -> b.append("tunnel ").append(text(e)).append('\n'));
        s.clients().forEach(e -> b.append("client ").append(text(e)).append('\n'));
        s.ports().forEach((h, p) -> b.append("port ").append(h).append(' ').append(p).append('\n'));
        s.devices().forEach(d -> b.append("device ").append(d).append('\n'));
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(b.toString().getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
