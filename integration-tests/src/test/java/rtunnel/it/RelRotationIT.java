package rtunnel.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import rtunnel.it.support.FixedServer;
import rtunnel.it.support.Procs;
import rtunnel.it.support.RelLoad;
import rtunnel.it.support.RelServer;
import rtunnel.it.support.V2Fixture;
import rtunnel.it.support.V2TestService;

/**
 * Issue 7, acceptance 8 in short (the mixed soak's first finding): checked ECHO sessions run back
 * to back, both ways at once, while the dynamic side rotates its link every 2 s. A rotation must
 * let every session in flight finish with every byte (SPEC B2: "sessions in flight finish").
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RelRotationIT extends RelTestBase {

    private static final String PASSWORD = V2Fixture.password(8);
    private static final Duration RUN = Duration.ofSeconds(20);
    private static final int WORKERS = 4;
    private static final String LINK_LINES = "(?i)link|closed|reset|retir|rotat|drain|WARN|ERROR";

    @Test
    void sessionsBothWaysSurviveEveryAlarmRotationIntact() throws Exception {
        service = V2TestService.start(FixedServer.LOCAL, false);
        fixed = RelServer.create(tmp.resolve("fixed"), PASSWORD, null);
        fixed.start();
        fixed.ok("addip-tunnel", V2Fixture.DYNAMIC_HOST);
        fixed.ok("addip-client", V2Fixture.CLIENT);
        Procs dyn = fixed.startDynamic(V2Fixture.DYNAMIC_HOST, "rel-rot", service.port(), "--alarm=2");
        int port = fixed.awaitV2("rel-rot", Duration.ofSeconds(40)).port();

        Queue<String> errors = new ConcurrentLinkedQueue<>();
        AtomicInteger done = new AtomicInteger();
        long end = System.nanoTime() + RUN.toNanos();
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
            int id = w;
            workers.add(Thread.ofVirtual().name("rot-" + w).start(() -> {
                Random rnd = new Random(id);
                for (int i = 0; i < 100_000 && System.nanoTime() < end && errors.size() < 5; i++) {
                    long n = 256 * 1024 + rnd.nextInt(2 << 20);
                    try {
                        RelLoad.echo(V2Fixture.CLIENT, port, n, id * 100_000L + i, Duration.ofSeconds(30));
                        done.incrementAndGet();
                    } catch (IOException | RuntimeException e) {
                        errors.add(java.time.Instant.now() + " session " + id + "/" + i + " (" + n + " bytes): " + e);
                    }
                }
            }));
        }
        for (Thread w : workers) {
            w.join(RUN.plusSeconds(60));
        }
        int rotations = V2Fixture.count(dyn.output(), "(?i)rotated");
        System.out.printf("RelRotationIT: %d sessions, %d rotations, errors %s%n", done.get(), rotations, errors);
        assertTrue(errors.isEmpty(), () -> errors.size() + " sessions broken across " + rotations + " rotations: "
                + errors + "\n" + fixed.describe(LINK_LINES));
        assertTrue(rotations >= 3, () -> "only " + rotations + " rotations in " + RUN + "\n" + dyn.output());
        assertTrue(done.get() >= 20, () -> "only " + done.get() + " sessions in " + RUN);
    }
}
