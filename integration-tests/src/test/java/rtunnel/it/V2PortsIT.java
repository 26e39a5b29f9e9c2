package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rtunnel.it.support.FixedServer;
import rtunnel.it.support.FixedServer.Tunnel;
import rtunnel.it.support.Json;
import rtunnel.it.support.Procs;
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2TestService;

/**
 * Issue 3, acceptance 2: a v2 tunnel keeps its port across many sessions, a restarted dynamic
 * side gets its port back, and {@code --request-port} is granted inside {@code --client-ports}
 * and refused, with the reason logged, outside it.
 */
class V2PortsIT {

    private static final int SEQUENTIAL_SESSIONS = 50;
    private static final int RANGE = 10;

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
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void portStaysAcrossSessionsAndRestartsAndRequestsHonourTheRange() throws Exception {
        int low = freeRange(RANGE + 10);
        int high = low + RANGE - 1;
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = V2Fixture.startFixed(tmp.resolve("fixed"), V2Fixture.password(8), "--client-ports=" + low + "-" + high);

        // 50 sequential sessions, one tunnel, one port.
        Procs first = V2Fixture.startDynamic(fixed, "v2-seq", service.port());
        Tunnel t = V2Fixture.awaitV2(fixed, "v2-seq");
        assertTrue(t.port() >= low && t.port() <= high, () -> "port outside --client-ports=" + low + "-" + high
                + ": " + t.line());
        for (int i = 0; i < SEQUENTIAL_SESSIONS; i++) {
            V2Fixture.echoSession(t.port(), "session " + i);
        }
        List<Tunnel> after = V2Fixture.tunnelsOf(fixed, "v2-seq");
        assertEquals(1, after.size(), after::toString);
        assertEquals(t.id(), after.get(0).id(), after.get(0)::line);
        assertEquals(t.port(), after.get(0).port(), after.get(0)::line);
        assertEquals(SEQUENTIAL_SESSIONS, service.connections(), "sessions that reached the service");
        checkJson(t);

        // Killed without warning and started again: the same port comes back.
        V2Fixture.killHard(first);
        Procs again = V2Fixture.startDynamic(fixed, "v2-seq", service.port());
        V2Fixture.awaitLog(again, V2Fixture.TUNNEL_UP, "(?i)connected to .*protocol 2", "the restarted dynamic side "
                + "connected", fixed);
        Procs.waitFor(Duration.ofSeconds(15), () -> V2Fixture.tunnelsOf(fixed, "v2-seq").size() == 1,
                "exactly one tunnel for v2-seq after the restart");
        Tunnel back = V2Fixture.tunnelsOf(fixed, "v2-seq").get(0);
        assertEquals(t.port(), back.port(), () -> "port after restart: " + back.line() + "\n" + fixed.describe());
        V2Fixture.echoSession(back.port(), "after restart");

        // A requested port inside the range is granted ...
        int inside = low == t.port() ? low + 1 : low;
        V2Fixture.startDynamic(fixed, "v2-req", service.port(), "--request-port=" + inside);
        Tunnel req = V2Fixture.awaitV2(fixed, "v2-req");
        assertEquals(inside, req.port(), req::line);
        V2Fixture.echoSession(req.port(), "requested port");

        // ... one outside it is refused with the reason, and no tunnel appears.
        int outside = high + 5;
        Procs out = V2Fixture.startDynamic(fixed, "v2-out", service.port(), "--request-port=" + outside);
        V2Fixture.awaitLog(out, V2Fixture.TUNNEL_UP, "(?i)outside.*range", "the dynamic side logging that port "
                + outside + " is outside the allowed range", fixed);
        fixed.assertNoTunnelFor(Duration.ofSeconds(2), x -> x.hostname().equals("v2-out"),
                "port " + outside + " is outside --client-ports=" + low + "-" + high);
        assertEquals(1, V2Fixture.tunnelsOf(fixed, "v2-seq").size(), "the other tunnels are untouched");
    }

    @SuppressWarnings("unchecked") // Json gives untyped maps and lists; the shape is checked as we go.
    private void checkJson(Tunnel t) {
        Object doc = Json.parse(fixed.controlOk("--list-tunnels", "--json"));
        assertTrue(doc instanceof List<?>, () -> "--json listing is not an array: " + doc);
        Map<String, Object> mine = ((List<Object>) doc).stream().map(o -> (Map<String, Object>) o)
                .filter(m -> "v2-seq".equals(m.get("hostname"))).findFirst()
                .orElseThrow(() -> new AssertionError("no v2-seq in " + doc));
        assertEquals(t.id(), ((Number) mine.get("id")).intValue(), mine::toString);
        assertEquals(t.port(), ((Number) mine.get("port")).intValue(), mine::toString);
        assertEquals(2, ((Number) mine.get("protocol")).intValue(), mine::toString);
        assertEquals(0, ((Number) mine.get("sessions")).intValue(), mine::toString);
        assertTrue(((Number) mine.get("bytes_in")).longValue() > 0, mine::toString);
        assertTrue(((Number) mine.get("bytes_out")).longValue() > 0, mine::toString);
    }

    /**
     * The first port of {@code n} consecutive ports that are free now, below Linux's ephemeral
     * range so that no outgoing connection takes one meanwhile.
     */
    private static int freeRange(int n) {
        Random rnd = new Random();
        for (int attempt = 0; attempt < 50; attempt++) {
            int low = 20_000 + rnd.nextInt(10_000);
            boolean free = true;
            for (int p = low; p < low + n && free; p++) {
                try (ServerSocket s = new ServerSocket()) {
                    s.bind(new InetSocketAddress(p));
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return low;
            }
        }
        throw new AssertionError("no " + n + " consecutive free ports found");
    }
}
