package rtunnel.fixed;

import java.nio.file.Path;

import rtunnel.common.cli.RtunnelException;
import rtunnel.common.cli.Unix;
import rtunnel.common.tls.Fingerprints;
import rtunnel.common.tls.ServerCredentials;

/** {@code fixed_rtunnel --generate-cert}: a fresh key and certificate on demand. */
final class CertificateCommand {
    private CertificateCommand() {
    }

    static int generate(Path keyFile, Path certFile) throws RtunnelException {
        ServerCredentials creds = ServerCredentials.generate(keyFile, certFile, Unix.hostname());
        System.out.println("wrote private key " + keyFile + " (mode 0600) and certificate " + certFile);
        System.out.println("fingerprint " + creds.fingerprint());
        System.out.println("fingerprint (openssl form) " + Fingerprints.sha256Hex(creds.chain().get(0)));
        return RtunnelException.OK;
    }
}
