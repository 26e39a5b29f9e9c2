package rtunnel.common.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SyslogStreamTest {
    @Test
    void severityFollowsTheLevelWordAndCarriesOverToContinuationLines() {
        assertEquals(3, SyslogStream.severityOf("ERROR FixedServer - boom", 6));
        assertEquals(4, SyslogStream.severityOf("WARN Tunnel - refused", 6));
        assertEquals(6, SyslogStream.severityOf("INFO Tunnel - up", 3));
        assertEquals(7, SyslogStream.severityOf("DEBUG Tunnel - detail", 6));
        assertEquals(3, SyslogStream.severityOf("\tat java.base/Foo.bar(Foo.java:1)", 3));
    }
}
