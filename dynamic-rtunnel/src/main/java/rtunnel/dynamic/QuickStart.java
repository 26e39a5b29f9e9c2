package rtunnel.dynamic;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import rtunnel.common.cli.Converters;

/**
 * The lean start path of dynamic_rtunnel: when every argument is one of the command's options in
 * its {@code --name=value} (or flag) form, the options are set here without building picocli's
 * model, which costs about 150 ms of a start in a fresh JVM (reading the annotations through
 * generated proxies). Anything else (another form, a repeated option, a value a converter refuses,
 * --config, --help, --version, a missing --remoteip) goes the normal way, so every message and
 * exit status is picocli's. {@code QuickStartTest} checks that both ways give the same command.
 */
final class QuickStart {
    private QuickStart() {
    }

    /** The command these arguments set, or null to take the normal (picocli) path. */
    static DynamicCommand parse(String[] args) {
        DynamicCommand c = new DynamicCommand();
        Set<String> seen = new HashSet<>();
        try {
            for (String a : args) {
                int eq = a.indexOf('=');
                String name = eq < 0 ? a : a.substring(0, eq);
                if (!name.startsWith("--") || !seen.add(name) && !name.equals("--server-fingerprint")) {
                    return null;
                }
                boolean set = eq < 0 ? flag(c, name) : option(c, name, a.substring(eq + 1));
                if (!set) {
                    return null;
                }
            }
        } catch (RuntimeException e) { // a converter refused the value: picocli says why
            return null;
        }
        return c.remoteIp == null ? null : c;
    }

    private static boolean flag(DynamicCommand c, String name) {
        switch (name) {
            case "--insecure" -> c.insecure = true;
            case "--notroot" -> c.notRoot = true;
            case "--verbose" -> c.service.verbose = true;
            case "--debug" -> c.service.debug = true;
            case "--foreground" -> c.service.foreground = true;
            default -> {
                return false;
            }
        }
        return true;
    }

    private static boolean option(DynamicCommand c, String name, String v) {
        switch (name) {
            case "--remoteip" -> c.remoteIp = new Converters.Ipv4().convert(v);
            case "--remoteport" -> c.remotePort = new Converters.Port().convert(v);
            case "--localip" -> c.localIp = new Converters.Ipv4().convert(v);
            case "--localport" -> c.localPort = new Converters.Port().convert(v);
            case "--password" -> c.passwordHex = v;
            case "--password-file" -> c.passwordFile = Path.of(v);
            case "--server-fingerprint" -> c.serverFingerprints.add(v);
            case "--cafile" -> c.caFile = Path.of(v);
            case "--known-servers" -> c.knownServers = Path.of(v);
            case "--device-keyfile" -> c.deviceKeyFile = Path.of(v);
            case "--device-certfile" -> c.deviceCertFile = Path.of(v);
            case "--hostname" -> c.hostname = v;
            case "--alarm" -> c.alarmSeconds = new Converters.Seconds().convert(v);
            case "--source-ip" -> c.sourceIp = new Converters.Ipv4().convert(v);
            case "--protocol" -> c.protocol = v;
            case "--request-port" -> c.requestPort = new Converters.Port().convert(v);
            case "--proxy-protocol" -> c.proxyProtocol = v;
            case "--user" -> c.user = v;
            case "--log-level" -> c.service.logLevel = v;
            case "--logfile" -> c.service.logFile = Path.of(v);
            case "--pidfile" -> c.service.pidFile = Path.of(v);
            default -> {
                return false;
            }
        }
        return true;
    }
}
