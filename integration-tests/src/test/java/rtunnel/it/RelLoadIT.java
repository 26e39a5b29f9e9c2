package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import rtunnel.it.support.FixedServer;
import rtunnel.it.support.Procs;
import rtunnel.it.support.RelLoad;
import rtunnel.it.support.RelScale;
import rtunnel.it.support.RelServer;
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2TestService;

/**
 * Issue 7, acceptance 5: many concurrent sessions over several tunnels, each moving data both
 * ways with SHA-256 checked: zero errors, zero corrupted bytes. Short run: 40 sessions over 4
 * tunnels, 2 MB each way; {@code -Drel.full=true}: 200 sessions over 20 tunnels, 10 MB each way.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RelLoadIT extends RelTestBase {

    private static final String PASSWORD = V2Fixture.password(8);
    private static final int TUNNELS = RelScale.of("rel.load.tunnels", 4, 20);
    private static final int SESSIONS = RelScale.of("rel.load.sessions", 40, 200);
    private static final long BYTES = RelScale.of("rel.load.mb", 2, 10) * 1024L * 1024;
    private static final Duration BATCH_TIMEOUT = Duration.ofSeconds(RelScale.full() ? 1500 : 120);

    @Test
    void concurrentSessionsOverSeveralTunnelsMoveEveryByteIntactBothWays() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = RelServer.create(tmp.resolve("fixed"), PASSWORD, null, "--maxtunnels=" + (TUNNELS + 5));
        fixed.start();
        fixed.ok("addip-tunnel", V2Fixture.DYNAMIC_HOST);
        fixed.ok("addip-client", V2Fixture.CLIENT);
        for (int i = 0; i < TUNNELS; i++) {
            fixed.startDynamic(V2Fixture.DYNAMIC_HOST, "rel-load" + i, service.port());
        }
        int[] ports = new int[TUNNELS];
        for (int i = 0; i < TUNNELS; i++) {
            ports[i] = fixed.awaitV2("rel-load" + i, Duration.ofSeconds(60 + 3L * TUNNELS)).port();
        }

        RelLoad.Outcome o = RelLoad.concurrent(V2Fixture.CLIENT, ports, SESSIONS, BYTES, BATCH_TIMEOUT);
        System.out.printf("RelLoadIT: %d sessions over %d tunnels, %d MB each way: %s%n", SESSIONS, TUNNELS,
                BYTES >> 20, o);
        assertTrue(o.clean(), () -> "load: " + o + "\n" + fixed.describe());
        assertTrue(o.bytesBothWays() == 2 * BYTES * SESSIONS, () -> "bytes moved: " + o);
        assertTrue(service.errors().isEmpty(), () -> "local service errors: " + service.errors());

        Procs.waitFor(Duration.ofSeconds(20), () -> fixed.tunnels().stream().allMatch(t -> t.sessions() == 0),
                "every session to be over in the listing");
        assertTrue(fixed.tunnels().size() == TUNNELS, () -> "tunnels after the load: " + fixed.tunnels());
    }
}
