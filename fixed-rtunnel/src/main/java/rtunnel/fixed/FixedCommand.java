package rtunnel.fixed;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rtunnel.common.cli.ServiceOptions;
import rtunnel.common.cli.Converters;
import rtunnel.common.cli.RtunnelException;
import rtunnel.common.cli.Secrets;
import rtunnel.common.control.ControlClient;
import rtunnel.common.daemon.ServiceRunner;
import rtunnel.common.control.ControlCommand;
import rtunnel.common.control.ControlRequest;
import rtunnel.common.protocol.Password;
import rtunnel.fixed.server.FixedServer;

/**
 * fixed_rtunnel's command line (SPEC A1). With a control option it is a client of the running
 * server's control socket; otherwise it is the server.
 */
@Command(name = FixedCommand.PROGRAM, sortOptions = false, usageHelpAutoWidth = true,
        versionProvider = rtunnel.common.cli.Version.class,
        description = {"Reverse tunnel server: admits dynamic_rtunnel peers over TLS and gives each a TCP port",
            "on this host that allowlisted clients can connect to (normally with ssh -p PORT).",
            "With a control option it talks to the running server through its control socket instead."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:success", "1:failure (server not reachable, refused request, startup failed)",
            "2:bad command line"})
public final class FixedCommand implements Callable<Integer> {
    public static final String PROGRAM = "fixed_rtunnel";
    static final int ROOT_PORT = 632;
    static final int USER_PORT = 6321;
    static final Path ROOT_SOCKET = Path.of("/var/run/rtunnel.socket");
    static final Path USER_SOCKET = Path.of("/tmp/rtunnel.socket");

    @Option(names = "--password", paramLabel = "HEX",
            description = "Shared password: 16 to 64 hex digits (the original and protocol v1 take exactly 16). Default: the original's \"PaSsWoRd\".")
    String passwordHex;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "Read the password from the first line of FILE (must not be readable by others). "
                + "Also possible: the environment variable RTUNNEL_PASSWORD.")
    Path passwordFile;

    @Option(names = "--generate-password", paramLabel = "DIGITS", arity = "0..1", fallbackValue = "32",
            description = "Print a fresh random password of DIGITS hex digits (default 32; 16 for original v1 peers) and exit.")
    Integer generatePassword;

    @Option(names = "--port", paramLabel = "PORT", converter = Converters.Port.class,
            description = "TLS port dynamic_rtunnel connects to. Default 632, or 6321 with --notroot.")
    Integer port;

    @Option(names = "--clientinterface", paramLabel = "IPv4", converter = Converters.Ipv4.class,
            description = "Address the per-tunnel client ports bind to. Default: all addresses.")
    InetAddress clientInterface;

    @Option(names = "--maxtunnels", paramLabel = "N", converter = Converters.PositiveCount.class,
            description = "Simultaneous tunnels; further tunnel connections are closed at once. Default 5.")
    int maxTunnels = 5;

    @Option(names = "--keyfile", paramLabel = "FILE", description = "PEM private key. Default certs/fixed.key.")
    Path keyFile = Path.of("certs/fixed.key");

    @Option(names = "--certfile", paramLabel = "FILE", description = "PEM certificate. Default certs/fixed.cert.")
    Path certFile = Path.of("certs/fixed.cert");

    @Option(names = "--socketname", paramLabel = "FILE",
            description = "Control socket. Default $RTUNNEL_SOCKET if set, else /var/run/rtunnel.socket, or /tmp/rtunnel.socket with --notroot.")
    Path socketName;

    @Option(names = "--client-ports", paramLabel = "LOW-HIGH",
            description = "Hand out tunnel ports only from this range (protocol v2 peers may ask for one in it). Default: any free port.")
    String clientPorts;

    @Option(names = "--ping-interval", paramLabel = "SECONDS", converter = Converters.Seconds.class,
            description = "Protocol v2: ping the dynamic side this often. Default 20.")
    long pingInterval = 20;

    @Option(names = "--ping-timeout", paramLabel = "SECONDS", converter = Converters.Seconds.class,
            description = "Protocol v2: drop a link that said nothing for this long. Default 60.")
    long pingTimeout = 60;

    @Option(names = "--ssh-only",
            description = "Forward a client session only when it starts with an SSH identification line (turns scanners away).")
    boolean sshOnly;

    @Option(names = "--require-device-key",
            description = "Admit a dynamic side only when it also presents an approved device key (see --list-pending, --approve).")
    boolean requireDeviceKey;

    @Option(names = "--statefile", paramLabel = "FILE",
            description = "Keep allowlists and sticky ports here across restarts ('none' for nowhere). "
                + "Default /var/lib/rtunnel/fixed_rtunnel.state as root, ~/.rtunnel/fixed_rtunnel.state with --notroot.")
    String stateFile;

    @Option(names = "--user", paramLabel = "NAME",
            description = "Started as root (without --notroot): the user to become once the port is bound. Default nobody.")
    String user = "nobody";

    @Option(names = "--notroot", description = "Do not drop privileges to nobody; use the non-root defaults.")
    boolean notRoot;

    @Option(names = "--generate-cert",
            description = "Write a fresh Ed25519 key and self-signed certificate to --keyfile/--certfile, print the fingerprint, exit.")
    boolean generateCert;

    @Mixin
    ServiceOptions service = new ServiceOptions();

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--version", versionHelp = true, description = "Print the version and exit.")
    boolean version;

    // Control options: each adds a request in command-line order, so several run in the order given.
    private final List<Step> steps = new ArrayList<>();

    private record Step(ControlCommand command, String argument) {
    }

    @Option(names = "--connect", paramLabel = "HOSTNAME",
            description = "Relay stdin/stdout to the tunnel of this hostname (for ssh -o ProxyCommand='fixed_rtunnel --connect=%%h').")
    String connectTo;

    @Option(names = "--port-of", paramLabel = "HOSTNAME", description = "Print the port of the tunnel of this hostname.")
    String portOf;

    @Option(names = "--ttl", paramLabel = "DURATION",
            description = "With --addip-*: the entries expire after this long (like 90s, 30m, 2h, 7d).")
    String ttl;

    @Option(names = "--json", description = "Machine-readable JSON output for listings.")
    boolean json;

    @Option(names = "--list-tunnels", description = "List live tunnels.")
    void listTunnels(boolean on) {
        step(on, ControlCommand.LIST_TUNNELS, null);
    }

    @Option(names = "--list-allowed-tunnels", description = "List addresses allowed to open tunnels.")
    void listAllowedTunnels(boolean on) {
        step(on, ControlCommand.LIST_ALLOWED_TUNNELS, null);
    }

    @Option(names = "--list-allowed-clients", description = "List addresses allowed to use tunnel ports.")
    void listAllowedClients(boolean on) {
        step(on, ControlCommand.LIST_ALLOWED_CLIENTS, null);
    }

    @Option(names = "--lastip-tunnel", description = "Show the last refused tunnel address.")
    void lastipTunnel(boolean on) {
        step(on, ControlCommand.LASTIP_TUNNEL, null);
    }

    @Option(names = "--lastip-client", description = "Show the last refused client address.")
    void lastipClient(boolean on) {
        step(on, ControlCommand.LASTIP_CLIENT, null);
    }

    @Option(names = "--addip-tunnel", paramLabel = "IP", description = "Allow tunnels from this address (IPv4, IPv6 or CIDR).")
    void addipTunnel(String ip) {
        step(true, ControlCommand.ADDIP_TUNNEL, ip);
    }

    @Option(names = "--addip-client", paramLabel = "IP", description = "Allow clients from this address (IPv4, IPv6 or CIDR).")
    void addipClient(String ip) {
        step(true, ControlCommand.ADDIP_CLIENT, ip);
    }

    @Option(names = "--delip-tunnel", paramLabel = "IP", description = "Remove an address from the tunnel allowlist.")
    void delipTunnel(String ip) {
        step(true, ControlCommand.DELIP_TUNNEL, ip);
    }

    @Option(names = "--delip-client", paramLabel = "IP", description = "Remove an address from the client allowlist.")
    void delipClient(String ip) {
        step(true, ControlCommand.DELIP_CLIENT, ip);
    }

    @Option(names = "--kill-tunnel", paramLabel = "ID", description = "Drop the tunnel with this id (see --list-tunnels).")
    void killTunnel(String id) {
        step(true, ControlCommand.KILL_TUNNEL, id);
    }

    @Option(names = "--list-pending", description = "List device keys that proved the password but are not approved.")
    void listPending(boolean on) {
        step(on, ControlCommand.LIST_PENDING, null);
    }

    @Option(names = "--list-devices", description = "List approved device keys.")
    void listDevices(boolean on) {
        step(on, ControlCommand.LIST_DEVICES, null);
    }

    @Option(names = "--approve", paramLabel = "FINGERPRINT", description = "Approve a device key (SHA256:... as listed).")
    void approve(String fingerprint) {
        step(true, ControlCommand.APPROVE, fingerprint);
    }

    @Option(names = "--revoke", paramLabel = "FINGERPRINT", description = "Withdraw a device key's approval.")
    void revoke(String fingerprint) {
        step(true, ControlCommand.REVOKE, fingerprint);
    }

    private void step(boolean on, ControlCommand command, String argument) {
        if (on) {
            steps.add(new Step(command, argument));
        }
    }

    private Path stateFilePath() {
        if ("none".equals(stateFile)) {
            return null;
        }
        Path p = stateFile != null ? Path.of(stateFile) : notRoot
                ? Path.of(System.getProperty("user.home"), ".rtunnel", "fixed_rtunnel.state")
                : Path.of("/var/lib/rtunnel/fixed_rtunnel.state");
        return p.toAbsolutePath();
    }

    /** --socketname, else $RTUNNEL_SOCKET, else the original's default for root or --notroot. */
    static Path controlSocket(Path socketName, boolean notRoot) {
        String env = System.getenv("RTUNNEL_SOCKET");
        return socketName != null ? socketName
                : env != null && !env.isEmpty() ? Path.of(env)
                : notRoot ? USER_SOCKET : ROOT_SOCKET;
    }

    @Override
    public Integer call() throws RtunnelException {
        Path socket = controlSocket(socketName, notRoot);
        if (connectTo != null || portOf != null) {
            if (!steps.isEmpty() || (connectTo != null && portOf != null)) {
                throw RtunnelException.usage("--connect and --port-of go alone (with --socketname, --clientinterface)");
            }
            if (portOf != null) {
                System.out.println(ConnectCommand.portOf(socket, portOf));
                return RtunnelException.OK;
            }
            return ConnectCommand.connect(socket, connectTo, clientInterface);
        }
        if (!steps.isEmpty()) {
            java.time.Duration expiry = ttl == null ? null : ControlArguments.duration("--ttl", ttl);
            if (expiry != null && steps.stream().noneMatch(s -> s.command() == ControlCommand.ADDIP_CLIENT
                    || s.command() == ControlCommand.ADDIP_TUNNEL)) {
                throw RtunnelException.usage("--ttl goes with --addip-client or --addip-tunnel");
            }
            List<ControlRequest> requests = new ArrayList<>();
            for (Step s : steps) {
                boolean adds = s.command() == ControlCommand.ADDIP_CLIENT || s.command() == ControlCommand.ADDIP_TUNNEL;
                requests.add(new ControlRequest(s.command(), ControlArguments.check(s.command(), s.argument()), json,
                        adds ? expiry : null));
            }
            return ControlClient.run(socket, requests, System.out, System.err);
        }
        if (json) {
            throw RtunnelException.usage("--json goes with a listing option such as --list-tunnels");
        }
        if (ttl != null) {
            throw RtunnelException.usage("--ttl goes with --addip-client or --addip-tunnel");
        }
        if (generatePassword != null) {
            if (generatePassword < 16 || generatePassword > 64 || generatePassword % 2 != 0) {
                throw RtunnelException.usage("--generate-password takes an even number of digits from 16 to 64");
            }
            System.out.println(Secrets.generate(generatePassword));
            return RtunnelException.OK;
        }
        if (generateCert) {
            return CertificateCommand.generate(keyFile, certFile);
        }
        Secrets.Resolved secret = Secrets.resolve(passwordHex, passwordFile, System.getenv(Secrets.ENV));
        Password password = secret.password();
        int[] range = clientPorts == null ? new int[] {0, 0} : Converters.portRange("--client-ports", clientPorts);
        if (pingInterval < 1 || pingTimeout <= pingInterval || pingTimeout > 3600) {
            throw RtunnelException.usage("--ping-interval must be at least 1 s and less than --ping-timeout (at most 3600 s)");
        }
        FixedConfig config = new FixedConfig(password, port != null ? port : notRoot ? USER_PORT : ROOT_PORT,
                clientInterface, maxTunnels, keyFile.toAbsolutePath(), certFile.toAbsolutePath(),
                socket.toAbsolutePath(), notRoot, service.verboseLogging(), service.inForeground(),
                service.absoluteLogFile(), range[0], range[1],
                Duration.ofSeconds(pingInterval), Duration.ofSeconds(pingTimeout), stateFilePath(), user, sshOnly, requireDeviceKey);
        return ServiceRunner.run(PROGRAM, service, () -> {
            if (secret.warning() != null) {
                org.slf4j.LoggerFactory.getLogger(FixedCommand.class).warn("{}", secret.warning());
            }
            FixedServer server = FixedServer.start(config);
            return server::awaitStop;
        });
    }
}
