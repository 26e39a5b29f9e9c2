package rtunnel.it;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

import rtunnel.it.support.RelServer;
import rtunnel.it.support.V2TestService;

/** What most reliability tests share: a server, a local service, a temp dir, and stopping both. */
abstract class RelTestBase {
    @TempDir
    Path tmp;

    RelServer fixed;
    V2TestService service;

    @AfterEach
    void stopAll() throws IOException {
        if (fixed != null) {
            fixed.close();
        }
        if (service != null) {
            service.close();
        }
    }
}
