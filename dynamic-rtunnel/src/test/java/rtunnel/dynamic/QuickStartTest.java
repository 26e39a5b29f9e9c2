package rtunnel.dynamic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;
import rtunnel.common.cli.ServiceOptions;

/** The lean start path sets exactly what picocli would, and leaves everything else to picocli. */
class QuickStartTest {
    private static final String[][] SAME = {
        {"--remoteip=192.0.2.7"},
        {"--remoteip=127.0.0.1", "--remoteport=17002", "--localport=17001", "--password=0123456789abcdef", "--insecure",
            "--hostname=ts", "--log-level=warn", "--alarm=0", "--notroot", "--foreground"},
        {"--remoteip=10.0.0.1", "--localip=10.0.0.2", "--source-ip=10.0.0.3", "--protocol=1", "--request-port=2222",
            "--proxy-protocol=2", "--user=daemon", "--verbose", "--debug", "--logfile=log", "--pidfile=/run/x.pid"},
        {"--remoteip=10.0.0.1", "--server-fingerprint=SHA256:aa", "--server-fingerprint=SHA256:bb", "--cafile=ca.pem",
            "--known-servers=/k", "--device-keyfile=d.key", "--device-certfile=d.cert", "--password-file=/p"},
        {"--hostname=", "--remoteip=10.0.0.1", "--password=x=y"},
        {"--remoteip=10.0.0.1", "--protocol=9", "--proxy-protocol=v1", "--log-level=loud"}, // call() refuses these
    };

    private static final String[][] PICOCLI = {
        {},
        {"--remoteport=632"}, // --remoteip is required
        {"--remoteip", "10.0.0.1"},
        {"--remoteip=10.0.0.1", "--remoteip=10.0.0.2"},
        {"--remoteip=10.0.0.1", "--insecure", "--insecure"},
        {"--remoteip=bogus"},
        {"--remoteip=10.0.0.1", "--remoteport=0"},
        {"--remoteip=10.0.0.1", "--alarm=-1"},
        {"--remoteip=10.0.0.1", "--config=/etc/x"},
        {"--remoteip=10.0.0.1", "--help"},
        {"--version"},
        {"--remoteip=10.0.0.1", "-h"},
        {"--remoteip=10.0.0.1", "--insecure=true"},
        {"--remoteip=10.0.0.1", "--nosuch=1"},
        {"--remoteip=10.0.0.1", "@args.txt"},
        {"--remoteip=10.0.0.1", "extra"},
    };

    @Test
    void setsWhatPicocliSets() throws Exception {
        for (String[] args : SAME) {
            DynamicCommand quick = QuickStart.parse(args);
            assertNotNull(quick, String.join(" ", args));
            DynamicCommand slow = new DynamicCommand();
            new CommandLine(slow).setOverwrittenOptionsAllowed(true).parseArgs(args);
            assertEquals(fields(slow), fields(quick), String.join(" ", args));
        }
    }

    @Test
    void leavesTheRestToPicocli() {
        for (String[] args : PICOCLI) {
            assertNull(QuickStart.parse(args), String.join(" ", args));
        }
    }

    /** Every instance field of the command and its service options, as name=value lines. */
    private static List<String> fields(DynamicCommand c) throws IllegalAccessException {
        List<String> out = new ArrayList<>();
        add(out, c, DynamicCommand.class);
        add(out, c.service, ServiceOptions.class);
        return out;
    }

    private static void add(List<String> out, Object o, Class<?> type) throws IllegalAccessException {
        for (Field f : type.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) || f.getType() == ServiceOptions.class) {
                continue;
            }
            f.setAccessible(true);
            out.add(f.getName() + "=" + f.get(o));
        }
    }
}
