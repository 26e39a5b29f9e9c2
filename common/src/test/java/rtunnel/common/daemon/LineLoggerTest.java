package rtunnel.common.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

class LineLoggerTest {
    private final PrintStream saved = System.err;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    private String capture(Runnable r) {
        bytes.reset();
        System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(saved);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @AfterEach
    void reset() {
        LineLogger.configure(Level.INFO, true);
    }

    @Test
    void slf4jFindsItAndLinesHaveTheTimeLevelShortNameAndText() {
        Logger log = LoggerFactory.getLogger("rtunnel.x.Thing");
        assertTrue(log instanceof LineLogger, log.getClass().getName());
        LineLogger.configure(Level.INFO, true);
        String out = capture(() -> log.info("tunnel {} up on port {}", 7, 4242));
        assertTrue(out.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO Thing - tunnel 7 up on port 4242\n"), out);
    }

    @Test
    void withoutTimeUnderSyslogAndWithTheStackTraceAfterTheLine() {
        Logger log = LoggerFactory.getLogger("rtunnel.x.Other");
        LineLogger.configure(Level.INFO, false);
        String out = capture(() -> log.warn("lost {}", "link", new IllegalStateException("boom")));
        assertTrue(out.startsWith("WARN Other - lost link\njava.lang.IllegalStateException: boom\n"), out);
    }

    @Test
    void theLevelIsReadAtEachCallAndLibrariesStayAtWarnings() {
        Logger ours = LoggerFactory.getLogger("rtunnel.x.Mine");
        Logger library = LoggerFactory.getLogger("org.newsclub.net.unix.Something");
        LineLogger.configure(Level.WARN, false);
        assertEquals("", capture(() -> ours.info("hidden")));
        LineLogger.configure(Level.DEBUG, false);
        assertEquals("DEBUG Mine - shown\n", capture(() -> ours.debug("shown")));
        assertEquals("", capture(() -> library.info("chatter")));
        assertEquals("WARN Something - worth saying\n", capture(() -> library.warn("worth saying")));
    }
}
