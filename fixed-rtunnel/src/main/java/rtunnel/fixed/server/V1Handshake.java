package rtunnel.fixed.server;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Arrays;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import rtunnel.common.protocol.Password;
import rtunnel.common.protocol.V1;
import rtunnel.common.tls.TlsContexts;
import rtunnel.common.v2.V2Wire;

/**
 * The fixed side of the v1 handshake (SPEC A3 steps 3-5), after the clear magic was read:
 * echo the magic, TLS as server, then the 16-byte password and hostname block. Every read is
 * bounded by {@link V1#HANDSHAKE_TIMEOUT}.
 */
final class V1Handshake {
    /** A peer that was turned away; the message is safe to log (it never holds the password). */
    static final class Refused extends Exception {
        private final boolean badPassword;

        Refused(String message) {
            this(message, false);
        }

        Refused(String message, boolean badPassword) {
            super(message);
            this.badPassword = badPassword;
        }

        /** The peer failed authentication (counts toward the address's back-off). */
        boolean badPassword() {
            return badPassword;
        }
    }

    /** The authenticated link. */
    record Link(SSLSocket tls, String hostname) {
    }

    private V1Handshake() {
    }

    /** Reads exactly {@code n} bytes within the socket's timeout, or says what went wrong. */
    static byte[] readExactly(InputStream in, int n, String what) throws Refused, IOException {
        try {
            byte[] b = in.readNBytes(n);
            if (b.length < n) {
                throw new Refused("closed before sending " + what);
            }
            return b;
        } catch (SocketTimeoutException e) {
            throw new Refused("sent no " + what + " within " + V1.HANDSHAKE_TIMEOUT.toSeconds() + " s");
        }
    }

    /** Echoes the magic and runs the TLS handshake as server, offering ALPN {@code rtunnel/2} to peers that ask. */
    static SSLSocket startTls(Socket raw, SSLContext tlsContext) throws Refused, IOException {
        raw.getOutputStream().write(V1.MAGIC);
        SSLSocket tls = TlsContexts.wrapServer(tlsContext, raw, V2Wire.ALPN);
        try {
            tls.startHandshake();
        } catch (SocketTimeoutException e) {
            throw new Refused("did not finish the TLS handshake within " + V1.HANDSHAKE_TIMEOUT.toSeconds() + " s");
        } catch (IOException e) {
            throw new Refused("TLS handshake failed: " + e.getMessage());
        }
        return tls;
    }

    /** Reads the 16-byte password and hostname block and checks the password in constant time. */
    static Link authenticate(SSLSocket tls, Password password) throws Refused, IOException {
        byte[] auth = readExactly(tls.getInputStream(), V1.AUTH_LENGTH, "password block");
        try {
            String hostname = V1.hostnameOf(auth);
            if (!password.matchesV1(auth)) {
                throw new Refused("wrong password (hostname " + hostname + ")", true);
            }
            return new Link(tls, hostname);
        } finally {
            Arrays.fill(auth, (byte) 0);
        }
    }
}
