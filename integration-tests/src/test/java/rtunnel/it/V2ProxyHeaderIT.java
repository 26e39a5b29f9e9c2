package rtunnel.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2TestService;

/**
 * Issue 3, acceptance 7 and 8: with {@code --proxy-protocol=1|2} the local service learns the
 * client's real address and port; and our dynamic side forced to protocol 1 still works with our
 * fixed side.
 */
class V2ProxyHeaderIT {

    @TempDir
    Path tmp;

    private FixedServer fixed;
    private V2TestService service;

    @AfterEach
    void stopAll() throws IOException {
        if (fixed != null) {
            fixed.close();
        }
        if (service != null) {
            service.close();
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void proxyHeadersV1AndV2CarryTheClientsRealAddress() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, true);
        fixed = V2Fixture.startFixed(tmp.resolve("fixed"), V2Fixture.password(8));
        V2Fixture.startDynamic(fixed, "v2-pp1", service.port(), "--proxy-protocol=1");
        V2Fixture.startDynamic(fixed, "v2-pp2", service.port(), "--proxy-protocol=2");
        for (int version = 1; version <= 2; version++) {
            Tunnel t = V2Fixture.awaitV2(fixed, "v2-pp" + version);
            try (Socket s = V2Fixture.connect(V2Fixture.PROXY_CLIENT, t.port())) {
                String expected = "PROXY v" + version + " " + V2Fixture.PROXY_CLIENT + " " + s.getLocalPort()
                        + " 127.0.0.1 " + t.port();
                assertEquals(expected, V2Fixture.readLine(s), fixed::describe);
                V2Fixture.send(s, "ECHO");
                s.getOutputStream().write("after the header\n".getBytes(US_ASCII));
                s.shutdownOutput();
                assertEquals("after the header\n", new String(s.getInputStream().readAllBytes(), US_ASCII));
            }
        }
        assertEquals(2, service.proxies().size(), () -> service.proxies().toString());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void protocolOneStillWorksBetweenOurPrograms() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = V2Fixture.startFixed(tmp.resolve("fixed"), V2Fixture.password(8));
        V2Fixture.startDynamic(fixed, "v1box", service.port(), "--protocol=1");
        Tunnel t = fixed.awaitTunnel(V2Fixture.TUNNEL_UP, x -> x.hostname().equals("v1box"),
                "a tunnel for v1box");
        assertEquals(1, t.protocol(), () -> "--protocol=1 must give a protocol 1 tunnel: " + t.line());
        V2Fixture.echoLine(t.port(), "through protocol 1");
    }
}
