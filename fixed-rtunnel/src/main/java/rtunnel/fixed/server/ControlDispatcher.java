package rtunnel.fixed.server;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import rtunnel.common.control.ControlFormat;
import rtunnel.common.control.ControlHandler;
import rtunnel.common.control.ControlReply;
import rtunnel.common.control.ControlRequest;
import rtunnel.common.net.AddressRange;
import rtunnel.common.net.Allowlist;
import rtunnel.common.net.IpAddresses;

/** Answers control-socket requests from the server's live state. */
final class ControlDispatcher implements ControlHandler {
    private static final Logger log = LoggerFactory.getLogger(ControlDispatcher.class);
    private static final String NONE = "0.0.0.0";

    /** Makes a change durable before it is reported done. */
    @FunctionalInterface
    interface Saver {
        void save() throws java.io.IOException;
    }

    private final AccessPolicy policy;
    private final TunnelRegistry registry;
    private final DeviceRegistry devices;
    private final Saver saver;

    ControlDispatcher(AccessPolicy policy, TunnelRegistry registry, DeviceRegistry devices, Saver saver) {
        this.policy = policy;
        this.registry = registry;
        this.devices = devices;
        this.saver = saver;
    }

    @Override
    public ControlReply handle(ControlRequest request) {
        boolean json = request.json();
        String arg = request.argument();
        return switch (request.command()) {
            case LIST_TUNNELS -> ControlReply.ok(
                    ControlFormat.tunnels(registry.all().stream().map(Tunnel::info).toList(), json));
            case LIST_ALLOWED_TUNNELS -> ControlReply.ok(ControlFormat.addresses(texts(policy.tunnels()), json));
            case LIST_ALLOWED_CLIENTS -> ControlReply.ok(ControlFormat.addresses(texts(policy.clients()), json));
            case LASTIP_TUNNEL -> ControlReply.ok(ControlFormat.address(text(policy.lastTunnel()), json));
            case LASTIP_CLIENT -> ControlReply.ok(ControlFormat.address(text(policy.lastClient()), json));
            case ADDIP_TUNNEL -> add(policy.tunnels(), "tunnel", arg, json, request.ttl());
            case ADDIP_CLIENT -> add(policy.clients(), "client", arg, json, request.ttl());
            case DELIP_TUNNEL -> remove(policy.tunnels(), "tunnel", arg, json);
            case DELIP_CLIENT -> remove(policy.clients(), "client", arg, json);
            case KILL_TUNNEL -> kill(arg, json);
            case LIST_PENDING -> ControlReply.ok(pendingLines(json));
            case LIST_DEVICES -> ControlReply.ok(deviceLines(devices.approved(), json));
            case APPROVE -> approve(arg, json);
            case REVOKE -> revoke(arg, json);
        };
    }

    private ControlReply add(Allowlist list, String kind, String arg, boolean json, java.time.Duration ttl) {
        AddressRange range;
        try {
            range = AddressRange.parse(arg);
        } catch (IllegalArgumentException e) {
            return ControlReply.error(e.getMessage());
        }
        java.time.Instant expires = ttl == null ? null : java.time.Instant.now().plus(ttl);
        if (list.add(range, expires)) {
            if (!saved()) {
                list.remove(range);
                return ControlReply.error("cannot save the state file, so " + range + " was not added (see the server log)");
            }
            log.info("{} allowlist: added {}{}", kind, range, expires == null ? "" : " until " + expires);
        }
        return ControlReply.ok(ControlFormat.address(range.toString(), json));
    }

    private ControlReply remove(Allowlist list, String kind, String arg, boolean json) {
        AddressRange range;
        try {
            range = AddressRange.parse(arg);
        } catch (IllegalArgumentException e) {
            return ControlReply.error(e.getMessage());
        }
        if (!list.remove(range)) {
            return ControlReply.error(range + " is not on the " + kind + " allowlist");
        }
        if (!saved()) {
            list.add(range);
            return ControlReply.error("cannot save the state file, so " + range + " was not removed (see the server log)");
        }
        log.info("{} allowlist: removed {}", kind, range);
        return ControlReply.ok(ControlFormat.address(range.toString(), json));
    }

    private ControlReply kill(String arg, boolean json) {
        long id;
        try {
            id = Long.parseLong(arg == null ? "" : arg);
        } catch (NumberFormatException e) {
            return ControlReply.error("'" + arg + "' is not a tunnel id (see --list-tunnels)");
        }
        Optional<Tunnel> tunnel = registry.get(id);
        if (tunnel.isEmpty()) {
            return ControlReply.error("no tunnel with id " + id + " (see --list-tunnels)");
        }
        List<String> lines = ControlFormat.tunnels(List.of(tunnel.get().info()), json);
        tunnel.get().close();
        registry.remove(id);
        log.info("tunnel {} killed through the control socket", id);
        return ControlReply.ok(lines);
    }

    private ControlReply approve(String arg, boolean json) {
        String fp;
        try {
            fp = rtunnel.common.tls.Fingerprints.canonical(arg);
        } catch (IllegalArgumentException e) {
            return ControlReply.error(e.getMessage());
        }
        if (devices.approve(fp)) {
            if (!saved()) {
                devices.revoke(fp);
                return ControlReply.error("cannot save the state file, so " + fp + " was not approved (see the server log)");
            }
            log.info("device key {} approved", fp);
        }
        return ControlReply.ok(deviceLines(List.of(fp), json));
    }

    private ControlReply revoke(String arg, boolean json) {
        String fp;
        try {
            fp = rtunnel.common.tls.Fingerprints.canonical(arg);
        } catch (IllegalArgumentException e) {
            return ControlReply.error(e.getMessage());
        }
        if (!devices.revoke(fp)) {
            return ControlReply.error(fp + " is not an approved device key (see --list-devices)");
        }
        if (!saved()) {
            devices.approve(fp);
            return ControlReply.error("cannot save the state file, so " + fp + " was not revoked (see the server log)");
        }
        int dropped = 0;
        for (Tunnel t : registry.all()) {
            if (fp.equals(t.deviceFingerprint())) {
                t.close();
                registry.remove(t.id());
                dropped++;
            }
        }
        log.info("device key {} revoked; {} tunnels using it dropped", fp, dropped);
        return ControlReply.ok(deviceLines(List.of(fp), json));
    }

    private List<String> pendingLines(boolean json) {
        List<DeviceRegistry.Pending> list = devices.pending();
        if (json) {
            StringBuilder s = new StringBuilder("[");
            for (DeviceRegistry.Pending p : list) {
                s.append(s.length() > 1 ? "," : "").append("{\"fingerprint\":").append(ControlFormat.quote(p.fingerprint()))
                        .append(",\"hostname\":").append(ControlFormat.quote(p.hostname()))
                        .append(",\"remoteip\":").append(ControlFormat.quote(IpAddresses.format(p.remote())))
                        .append(",\"last_seen\":").append(ControlFormat.quote(p.lastSeen().toString())).append('}');
            }
            return List.of(s.append(']').toString());
        }
        return list.stream().map(p -> "Device: " + p.fingerprint() + " hostname:" + p.hostname() + " remoteip:"
                + IpAddresses.format(p.remote()) + " lastseen:" + p.lastSeen().truncatedTo(java.time.temporal.ChronoUnit.SECONDS))
                .toList();
    }

    private static List<String> deviceLines(List<String> fingerprints, boolean json) {
        if (json) {
            return List.of(fingerprints.stream().map(ControlFormat::quote)
                    .collect(java.util.stream.Collectors.joining(",", "[", "]")));
        }
        return fingerprints.stream().map(f -> "Device: " + f).toList();
    }

    private synchronized boolean saved() {
        try {
            saver.save();
            return true;
        } catch (java.io.IOException | RuntimeException e) {
            log.error("cannot save the state file: {}", e.getMessage());
            return false;
        }
    }

    private static List<String> texts(Allowlist list) {
        return list.liveEntries().stream()
                .map(e -> e.range() + (e.expires() == null ? "" : " expires:" + e.expires().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)))
                .toList();
    }

    private static String text(InetAddress a) {
        return a == null ? NONE : IpAddresses.format(a);
    }
}
