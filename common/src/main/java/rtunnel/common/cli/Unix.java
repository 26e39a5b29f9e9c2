package rtunnel.common.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Facts about the running process that the JDK has no API for. */
public final class Unix {
    private Unix() {
    }

    /** The real user id, read from /proc/self/status; -1 when it cannot be read. */
    public static int uid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or /proc is not mounted: callers treat -1 as "not root".
        }
        return -1;
    }

    public static boolean isRoot() {
        return uid() == 0;
    }

    /** The machine's host name without a DNS lookup; "localhost" when nothing says otherwise. */
    public static String hostname() {
        for (String file : new String[] {"/proc/sys/kernel/hostname", "/etc/hostname"}) {
            try {
                String name = Files.readString(Path.of(file)).strip();
                if (!name.isEmpty()) {
                    return name;
                }
            } catch (IOException | RuntimeException e) {
                // Try the next source.
            }
        }
        String env = System.getenv("HOSTNAME");
        return env != null && !env.isBlank() ? env.strip() : "localhost";
    }

    /** This process's pid, for log lines and pid files. */
    public static long pid() {
        return ProcessHandle.current().pid();
    }
}
