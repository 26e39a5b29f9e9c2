package rtunnel.dynamic;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;

import rtunnel.common.cli.RtunnelException;
import rtunnel.common.cli.Unix;
import rtunnel.common.tls.Fingerprints;
import rtunnel.common.tls.KnownServers;
import rtunnel.common.tls.ServerCredentials;
import rtunnel.common.tls.ServerTrust;
import rtunnel.common.tls.TlsContexts;

/**
 * The chosen way of verifying the server: pinned fingerprints, a CA file, trust on first use
 * (the default), or none at all with --insecure. Exactly one applies.
 */
record ServerCheck(String description, Path knownServers, List<byte[]> pins, Path caFile, boolean insecure) {
    static ServerCheck choose(List<String> fingerprints, Path caFile, Path knownServers, boolean insecure,
            boolean notRoot) throws RtunnelException {
        int ways = (fingerprints.isEmpty() ? 0 : 1) + (caFile == null ? 0 : 1) + (insecure ? 1 : 0);
        if (ways > 1 || (knownServers != null && ways > 0)) {
            throw RtunnelException.usage("choose one of --server-fingerprint, --cafile, --known-servers and --insecure");
        }
        if (insecure) {
            return new ServerCheck("none (--insecure)", null, List.of(), null, true);
        }
        if (!fingerprints.isEmpty()) {
            List<byte[]> pins = new ArrayList<>();
            for (String f : fingerprints) {
                try {
                    pins.add(Fingerprints.parse(f));
                } catch (IllegalArgumentException e) {
                    throw RtunnelException.usage("invalid value for --server-fingerprint: " + e.getMessage());
                }
            }
            return new ServerCheck("pinned fingerprint", null, pins, null, false);
        }
        if (caFile != null) {
            return new ServerCheck("CA file " + caFile, null, List.of(), caFile.toAbsolutePath(), false);
        }
        Path file = knownServers != null ? knownServers
                : Unix.isRoot() && !notRoot ? Path.of("/var/lib/rtunnel/known_servers")
                : Path.of(System.getProperty("user.home"), ".rtunnel", "known_servers");
        return new ServerCheck("trust on first use, " + file.toAbsolutePath(), file.toAbsolutePath(), List.of(), null,
                false);
    }

    /** The TLS client context for talking to {@code endpoint} ({@code address:port}). */
    SSLContext context(String endpoint, ServerCredentials device) throws RtunnelException {
        X509TrustManager tm = insecure ? ServerTrust.none()
                : !pins.isEmpty() ? ServerTrust.pinned(pins)
                : caFile != null ? ServerTrust.caFile(caFile)
                : ServerTrust.firstUse(new KnownServers(knownServers), endpoint);
        return TlsContexts.client(tm, device);
    }
}
