package rtunnel.dynamic;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rtunnel.common.cli.ServiceOptions;
import rtunnel.common.cli.Converters;
import rtunnel.common.cli.RtunnelException;
import rtunnel.common.cli.Unix;
import rtunnel.common.daemon.ServiceRunner;
import rtunnel.common.net.IpAddresses;
import rtunnel.common.protocol.Password;
import rtunnel.common.cli.Secrets;
import rtunnel.common.daemon.Privileges;

/** dynamic_rtunnel's command line (SPEC A2). */
@Command(name = DynamicCommand.PROGRAM, sortOptions = false, usageHelpAutoWidth = true,
        versionProvider = rtunnel.common.cli.Version.class,
        description = {"Reverse tunnel client: dials out to fixed_rtunnel over TLS and carries the sessions it",
            "is given to a local service (sshd on 127.0.0.1:22 by default). Reconnects by itself."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:success", "1:failure", "2:bad command line"})
public final class DynamicCommand implements Callable<Integer> {
    public static final String PROGRAM = "dynamic_rtunnel";

    @Option(names = "--remoteip", paramLabel = "IPv4", required = true, converter = Converters.Ipv4.class,
            description = "Address of the fixed_rtunnel server (required).")
    InetAddress remoteIp;

    @Option(names = "--remoteport", paramLabel = "PORT", converter = Converters.Port.class,
            description = "TLS port of the server. Default 632.")
    int remotePort = 632;

    @Option(names = "--localip", paramLabel = "IPv4", converter = Converters.Ipv4.class,
            description = "Address of the local service to expose. Default 127.0.0.1.")
    InetAddress localIp = IpAddresses.parseIpv4("127.0.0.1");

    @Option(names = "--localport", paramLabel = "PORT", converter = Converters.Port.class,
            description = "Port of the local service to expose. Default 22.")
    int localPort = 22;

    @Option(names = "--password", paramLabel = "HEX",
            description = "Shared password: 16 to 64 hex digits (protocol v1 takes exactly 16). Default: the original's \"PaSsWoRd\".")
    String passwordHex;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "Read the password from the first line of FILE (must not be readable by others). "
                + "Also possible: the environment variable RTUNNEL_PASSWORD.")
    Path passwordFile;

    @Option(names = "--server-fingerprint", paramLabel = "SHA256:...",
            description = "Accept only a server certificate with this fingerprint (as fixed_rtunnel prints it). Repeatable.")
    List<String> serverFingerprints = new ArrayList<>();

    @Option(names = "--cafile", paramLabel = "PEM", description = "Accept a server certificate signed by a CA in this file.")
    Path caFile;

    @Option(names = "--known-servers", paramLabel = "FILE",
            description = "Trust on first use: the file where server fingerprints are remembered. "
                + "Default /var/lib/rtunnel/known_servers as root, ~/.rtunnel/known_servers otherwise.")
    Path knownServers;

    @Option(names = "--device-keyfile", paramLabel = "FILE",
            description = "Present this device key to the server (generated on first use with its certificate); "
                + "the server operator approves its fingerprint with fixed_rtunnel --approve.")
    Path deviceKeyFile;

    @Option(names = "--device-certfile", paramLabel = "FILE",
            description = "Certificate of the device key. Default: the key file's name with .cert.")
    Path deviceCertFile;

    @Option(names = "--insecure",
            description = "Do not verify the server at all (the original's behaviour): anyone in the path can pose as it.")
    boolean insecure;

    @Option(names = "--hostname", paramLabel = "NAME",
            description = "Name shown in --list-tunnels (up to 64 characters; first 8 bytes on protocol v1). Default: this machine's name.")
    String hostname;

    @Option(names = "--alarm", paramLabel = "SECONDS", converter = Converters.Seconds.class,
            description = "Reconnect every SECONDS (0 = never). A session in progress is not cut. Default 3600.")
    long alarmSeconds = 3600;

    @Option(names = "--source-ip", paramLabel = "IPv4", converter = Converters.Ipv4.class,
            description = "Make the tunnel connection from this local address (multi-homed hosts).")
    InetAddress sourceIp;

    @Option(names = "--protocol", paramLabel = "1|2|auto",
            description = "Protocol: auto (default) uses v2 with a server that offers it and v1 otherwise; 1 or 2 forces one.")
    String protocol = "auto";

    @Option(names = "--request-port", paramLabel = "PORT", converter = Converters.Port.class,
            description = "Protocol v2: ask the server for this tunnel port (it must be free and inside its --client-ports).")
    int requestPort;

    @Option(names = "--proxy-protocol", paramLabel = "1|2",
            description = "Protocol v2: send a PROXY protocol header (version 1 text or 2 binary) to the local service, "
                + "so it sees the real client address.")
    String proxyProtocol;

    @Option(names = "--user", paramLabel = "NAME",
            description = "Started as root (without --notroot): the user to become before dialing. Default nobody.")
    String user = "nobody";

    @Option(names = "--notroot", description = "Do not drop privileges to nobody.")
    boolean notRoot;

    @Mixin
    ServiceOptions service = new ServiceOptions();

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--version", versionHelp = true, description = "Print the version and exit.")
    boolean version;

    @Override
    public Integer call() throws RtunnelException {
        Secrets.Resolved secret = Secrets.resolve(passwordHex, passwordFile, System.getenv(Secrets.ENV));
        Password password = secret.password();
        ServerCheck check = ServerCheck.choose(serverFingerprints, caFile, knownServers, insecure, notRoot);
        if (deviceCertFile != null && deviceKeyFile == null) {
            throw RtunnelException.usage("--device-certfile goes with --device-keyfile");
        }
        Path deviceCert = deviceKeyFile == null ? null : deviceCertFile != null ? deviceCertFile
                : deviceKeyFile.resolveSibling(deviceKeyFile.getFileName().toString().replaceFirst("\\.key$", "") + ".cert");
        String name = hostname != null ? hostname : Unix.hostname();
        if (name.isEmpty() || name.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
            throw RtunnelException.usage("--hostname must be printable and without spaces");
        }
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 64) {
            throw RtunnelException.usage("--hostname is longer than 64 bytes");
        }
        int proto = switch (protocol) {
            case "auto" -> 0;
            case "1" -> 1;
            case "2" -> 2;
            default -> throw RtunnelException.usage("invalid value for --protocol: '" + protocol + "' (1, 2 or auto)");
        };
        if (proto == 1 && !password.fitsV1()) {
            throw RtunnelException.usage("--protocol=1 needs a --password of exactly 16 hex digits");
        }
        int proxy = proxyProtocol == null ? 0 : switch (proxyProtocol) {
            case "1", "v1" -> 1;
            case "2", "v2" -> 2;
            default -> throw RtunnelException.usage("invalid value for --proxy-protocol: '" + proxyProtocol + "' (1 or 2)");
        };
        DynamicConfig config = new DynamicConfig(remoteIp, remotePort, localIp, localPort, password, name,
                Duration.ofSeconds(alarmSeconds), sourceIp, notRoot, service.verboseLogging(), service.inForeground(),
                service.absoluteLogFile(), proto, requestPort, proxy, check,
                deviceKeyFile == null ? null : deviceKeyFile.toAbsolutePath(), deviceCert == null ? null : deviceCert.toAbsolutePath());
        return ServiceRunner.run(PROGRAM, service, () -> {
            if (secret.warning() != null) {
                org.slf4j.LoggerFactory.getLogger(DynamicCommand.class).warn("{}", secret.warning());
            }
            DynamicClient client = new DynamicClient(config); // reads --cafile while still root
            if (!notRoot && rtunnel.common.cli.Unix.isRoot()) {
                Privileges.Account account = Privileges.lookup(user);
                if (check.knownServers() != null) {
                    Privileges.prepareDirectory(check.knownServers().getParent(), account);
                    if (java.nio.file.Files.exists(check.knownServers())) {
                        try {
                            Privileges.chown(check.knownServers(), account);
                        } catch (java.io.IOException e) {
                            throw RtunnelException.failure("cannot hand " + check.knownServers() + " to " + user + ": "
                                    + e.getMessage(), e);
                        }
                    }
                }
                Privileges.drop(account);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(client::stop, "shutdown"));
            return client::run;
        });
    }
}
