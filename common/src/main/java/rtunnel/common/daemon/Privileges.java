package rtunnel.common.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;

import com.sun.jna.Library;
import com.sun.jna.Native;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.cli.RtunnelException;
import rtunnel.common.cli.Unix;

/**
 * Dropping root for good once the privileged work (binding port 632, the control socket in
 * /var/run, reading the key) is done: supplementary groups, then gid, then uid, through libc
 * (JNA). glibc applies set*id to every thread of the process. Afterwards the drop is verified,
 * including that uid 0 cannot be regained; if anything is off the program stops.
 */
public final class Privileges {
    private static final Logger log = LoggerFactory.getLogger(Privileges.class);

    /** The libc calls needed; names and types as in unistd.h / grp.h on 64-bit Linux. */
    interface LibC extends Library {
        int setgroups(long size, int[] list);

        int setresgid(int rgid, int egid, int sgid);

        int setresuid(int ruid, int euid, int suid);

        int setuid(int uid);

        int getuid();

        int geteuid();

        int getgid();

        int getegid();
    }

    /** A user to become: name, uid and primary gid from /etc/passwd. */
    public record Account(String name, int uid, int gid) {
    }

    private Privileges() {
    }

    /** Looks the user up in /etc/passwd (no NSS: a service user is a local account). */
    public static Account lookup(String name) throws RtunnelException {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = line.split(":", -1);
                if (f.length >= 4 && f[0].equals(name)) {
                    return new Account(name, Integer.parseInt(f[2]), Integer.parseInt(f[3]));
                }
            }
        } catch (IOException | NumberFormatException e) {
            throw RtunnelException.failure("cannot read /etc/passwd to find user " + name + ": " + e.getMessage(), e);
        }
        throw RtunnelException.failure("no user '" + name + "' in /etc/passwd (see --user, or --notroot to keep running as root)");
    }

    /**
     * Makes {@code dir} a directory the account can write: created with mode 0700 and given to it
     * when missing; an existing one must already belong to it, or to root with the account able to
     * write it, so that no directory of the system is ever handed over by mistake.
     */
    public static void prepareDirectory(Path dir, Account to) throws RtunnelException {
        try {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                chown(dir, to);
                return;
            }
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw RtunnelException.failure(dir + " is not a directory");
            }
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != to.uid()) {
                throw RtunnelException.failure("directory " + dir + " must belong to user " + to.name()
                        + ", who writes there after dropping root (chown " + to.name() + " " + dir
                        + ", or choose a path in a directory that does not exist yet)");
            }
        } catch (IOException e) {
            throw RtunnelException.failure("cannot prepare directory " + dir + " for user " + to.name() + ": "
                    + e.getMessage(), e);
        }
    }

    /** Gives a file (a state file, the control socket) to the account. */
    public static void chown(Path file, Account to) throws IOException {
        UserPrincipalLookupService users = file.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        UserPrincipal user = users.lookupPrincipalByName(Integer.toString(to.uid()));
        GroupPrincipal group = users.lookupPrincipalByGroupName(Integer.toString(to.gid()));
        view.setOwner(user);
        view.setGroup(group);
    }

    /** Becomes {@code to} for good, or throws; a no-op (with a log line) when not running as root. */
    public static void drop(Account to) throws RtunnelException {
        if (Unix.uid() != 0) {
            log.info("not running as root: no privileges to drop");
            return;
        }
        LibC c;
        try {
            c = Native.load("c", LibC.class);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            throw RtunnelException.failure("cannot drop root: libc is not reachable through JNA (" + e.getMessage()
                    + "); run with --notroot as an unprivileged user instead", e);
        }
        if (c.setgroups(1, new int[] {to.gid()}) != 0) {
            throw failed("setgroups", Native.getLastError());
        }
        if (c.setresgid(to.gid(), to.gid(), to.gid()) != 0) {
            throw failed("setresgid", Native.getLastError());
        }
        if (c.setresuid(to.uid(), to.uid(), to.uid()) != 0) {
            throw failed("setresuid", Native.getLastError());
        }
        boolean regained = to.uid() != 0 && c.setuid(0) == 0;
        if (regained || c.getuid() != to.uid() || c.geteuid() != to.uid() || c.getgid() != to.gid()
                || c.getegid() != to.gid() || Unix.uid() != to.uid()) {
            throw RtunnelException.failure("dropping root to " + to.name() + " did not hold; stopping");
        }
        log.info("dropped root: now running as {} (uid {}, gid {})", to.name(), to.uid(), to.gid());
    }

    private static RtunnelException failed(String call, int errno) {
        return RtunnelException.failure("cannot drop root: " + call + " failed (errno " + errno + "); stopping");
    }
}
