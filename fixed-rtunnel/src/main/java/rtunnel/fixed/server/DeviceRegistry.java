package rtunnel.fixed.server;

import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import rtunnel.common.tls.Fingerprints;

/**
 * Device keys: a dynamic side may present a certificate of its own. Approved fingerprints are
 * kept (and saved in the state file); unknown ones that got past the password are listed as
 * pending for an operator to approve. With --require-device-key a password alone is not enough.
 */
final class DeviceRegistry {
    private static final int MAX_PENDING = 1000;

    /** A device that presented an unknown key. */
    record Pending(String fingerprint, String hostname, InetAddress remote, Instant lastSeen) {
    }

    /** What to do with a link that proved the password. */
    enum Verdict { ADMIT, NO_KEY, NOT_APPROVED }

    private final boolean required;
    private final Set<String> approved = ConcurrentHashMap.newKeySet();
    private final Map<String, Pending> pending = new LinkedHashMap<>();

    DeviceRegistry(boolean required) {
        this.required = required;
    }

    boolean required() {
        return required;
    }

    Verdict judge(X509Certificate device, String hostname, InetAddress remote) {
        if (device == null) {
            return required ? Verdict.NO_KEY : Verdict.ADMIT;
        }
        String fp = Fingerprints.sha256Base64(device);
        if (approved.contains(fp)) {
            return Verdict.ADMIT;
        }
        synchronized (pending) {
            pending.remove(fp);
            if (pending.size() >= MAX_PENDING) {
                pending.remove(pending.keySet().iterator().next());
            }
            pending.put(fp, new Pending(fp, hostname, remote, Instant.now()));
        }
        return required ? Verdict.NOT_APPROVED : Verdict.ADMIT;
    }

    /** True if newly approved. */
    boolean approve(String fingerprint) {
        synchronized (pending) {
            pending.remove(fingerprint);
        }
        return approved.add(fingerprint);
    }

    boolean revoke(String fingerprint) {
        return approved.remove(fingerprint);
    }

    void restore(Collection<String> fingerprints) {
        approved.addAll(fingerprints);
    }

    List<String> approved() {
        return approved.stream().sorted().toList();
    }

    List<Pending> pending() {
        synchronized (pending) {
            return new ArrayList<>(pending.values());
        }
    }
}
