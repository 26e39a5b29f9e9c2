package rtunnel.common.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** AddressRange (CIDR) and Allowlist, the set of ranges the fixed side checks every peer against. */
class AddressRangeTest {
    private static InetAddress ip(String text) {
        return IpAddresses.parseLiteral(text);
    }

    /** input, canonical text. */
    @ParameterizedTest
    @CsvSource({
        "192.0.2.77/24, 192.0.2.0/24",
        "192.0.2.77/32, 192.0.2.77",
        "192.0.2.77, 192.0.2.77",
        "192.0.2.255/25, 192.0.2.128/25",
        "10.9.8.7/8, 10.0.0.0/8",
        "10.255.255.255/9, 10.128.0.0/9",
        "172.31.1.1/12, 172.16.0.0/12",
        "255.255.255.255/0, 0.0.0.0/0",
        "1.2.3.4/31, 1.2.3.4/31",
        "1.2.3.5/31, 1.2.3.4/31",
        "2001:DB8::1/32, 2001:db8::/32",
        "2001:db8:1234:5678::1/48, 2001:db8:1234::/48",
        "2001:db8::1/128, 2001:db8::1",
        "2001:db8::1, 2001:db8::1",
        "2001:0db8:0000:0000:0000:0000:0000:0001, 2001:db8::1",
        "fe80::abcd/10, fe80::/10",
        "febf:ffff::/10, fe80::/10",
        "::/0, ::/0",
        "ffff::1/1, 8000::/1",
        "::ffff:1.2.3.4, 1.2.3.4",
        "::ffff:1.2.3.4/128, 1.2.3.4",
        "::ffff:192.0.2.77/120, 192.0.2.0/24",
        "::FFFF:c000:2ff/120, 192.0.2.0/24",
        "::ffff:0.0.0.0/96, 0.0.0.0/0"})
    void parsesToCanonicalForm(String text, String canonical) {
        AddressRange r = AddressRange.parse(text);
        assertEquals(canonical, r.toString());
        assertEquals(r, AddressRange.parse(canonical), "the canonical text parses back to an equal range");
        assertEquals(r.hashCode(), AddressRange.parse(canonical).hashCode());
        assertEquals(!canonical.contains("/"), r.isSingleAddress());
    }

    @ParameterizedTest
    @ValueSource(strings = {"192.0.2.0/33", "192.0.2.0/99", "192.0.2.0/128", "2001:db8::/129", "::/200",
            "192.0.2.0/", "192.0.2.0/-1", "192.0.2.0/+8", "192.0.2.0/ 8", "192.0.2.0/8 ", "192.0.2.0/0x8",
            "192.0.2.0/1a", "192.0.2.0/8/8", "192.0.2.0//8", "192.0.2.0/1000", "192.0.2.0/00000008",
            "/24", "/", "", "192.0.2/24", "192.0.2.256/24", "01.0.2.0/24", "localhost/8", "localhost",
            "example.com/24", "2001:db8:::/32", "2001:db8::/\u0663\u0662", "192.0.2.0/\u0662\u0664", " 192.0.2.0/24"})
    @Timeout(5)
    void badRangesAreRefusedInOneLine(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AddressRange.parse(text),
                () -> "accepted '" + text + "'");
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void prefixBoundsDependOnTheFamily() {
        assertEquals("192.0.2.1", AddressRange.parse("192.0.2.1/32").toString());
        IllegalArgumentException v4 = assertThrows(IllegalArgumentException.class, () -> AddressRange.parse("192.0.2.1/33"));
        assertTrue(v4.getMessage().contains("0 to 32"), v4.getMessage());
        assertEquals("2001:db8::1", AddressRange.parse("2001:db8::1/128").toString());
        IllegalArgumentException v6 = assertThrows(IllegalArgumentException.class, () -> AddressRange.parse("2001:db8::1/129"));
        assertTrue(v6.getMessage().contains("0 to 128"), v6.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AddressRange.parse(null));
        IllegalArgumentException mapped = assertThrows(IllegalArgumentException.class,
                () -> AddressRange.parse("::ffff:192.0.2.0/24"));
        assertTrue(mapped.getMessage().contains("96 to 128"), "an IPv4-mapped range counts all 128 bits: "
                + mapped.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AddressRange.parse("::ffff:192.0.2.0/129"));
    }

    @Test
    void containsRespectsTheBoundaries() {
        AddressRange r24 = AddressRange.parse("192.0.2.77/24");
        assertTrue(r24.contains(ip("192.0.2.0")));
        assertTrue(r24.contains(ip("192.0.2.77")));
        assertTrue(r24.contains(ip("192.0.2.255")));
        assertFalse(r24.contains(ip("192.0.3.0")));
        assertFalse(r24.contains(ip("192.0.1.255")));
        assertFalse(r24.contains(ip("193.0.2.1")));

        AddressRange r25 = AddressRange.parse("192.0.2.128/25");
        assertTrue(r25.contains(ip("192.0.2.128")));
        assertTrue(r25.contains(ip("192.0.2.200")));
        assertFalse(r25.contains(ip("192.0.2.127")));

        AddressRange r9 = AddressRange.parse("10.128.0.0/9");
        assertTrue(r9.contains(ip("10.200.1.1")));
        assertFalse(r9.contains(ip("10.127.255.255")));

        AddressRange single = AddressRange.parse("192.0.2.7");
        assertTrue(single.contains(ip("192.0.2.7")));
        assertFalse(single.contains(ip("192.0.2.6")));
        assertFalse(single.contains(ip("192.0.2.8")));

        AddressRange r0 = AddressRange.parse("0.0.0.0/0");
        assertTrue(r0.contains(ip("0.0.0.0")));
        assertTrue(r0.contains(ip("255.255.255.255")));

        AddressRange v6 = AddressRange.parse("2001:db8:8000::/33");
        assertTrue(v6.contains(ip("2001:db8:8000::")));
        assertTrue(v6.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
        assertFalse(v6.contains(ip("2001:db8:7fff:ffff:ffff:ffff:ffff:ffff")));
        assertFalse(v6.contains(ip("2001:db9::")));
    }

    @Test
    void familiesNeverMix() {
        AddressRange allV4 = AddressRange.parse("0.0.0.0/0");
        AddressRange allV6 = AddressRange.parse("::/0");
        for (String v6 : List.of("::", "::1", "2001:db8::1", "::102:304", "64:ff9b::102:304")) {
            assertFalse(allV4.contains(ip(v6)), "0.0.0.0/0 must not contain " + v6);
            assertTrue(allV6.contains(ip(v6)));
        }
        for (String v4 : List.of("0.0.0.0", "1.2.3.4", "::ffff:1.2.3.4", "255.255.255.255")) {
            assertFalse(allV6.contains(ip(v4)), "::/0 must not contain " + v4);
            assertTrue(allV4.contains(ip(v4)));
        }
        // Same bits, different family.
        assertNotEquals(AddressRange.parse("0.0.0.0/0"), AddressRange.parse("::/0"));
        assertFalse(AddressRange.parse("::/96").contains(ip("1.2.3.4")));
    }

    @Test
    void ofAnAddressIsTheSingleAddressRange() {
        AddressRange r = AddressRange.of(ip("192.0.2.9"));
        assertTrue(r.isSingleAddress());
        assertEquals(AddressRange.parse("192.0.2.9/32"), r);
        assertEquals("192.0.2.9", r.toString());
        assertEquals("2001:db8::9", AddressRange.of(ip("2001:db8:0:0::9")).toString());
    }

    @Test
    void allowlistStartsEmptyAndAllowsNothing() {
        Allowlist list = new Allowlist();
        assertTrue(list.entries().isEmpty());
        assertFalse(list.allows(ip("127.0.0.1")));
        assertFalse(list.allows(ip("::1")));
    }

    @Test
    void allowlistAddRemoveDuplicatesAndOrder() {
        Allowlist list = new Allowlist();
        assertTrue(list.add(AddressRange.parse("192.0.2.7")));
        assertTrue(list.add(AddressRange.parse("10.1.2.3/8")));
        assertTrue(list.add(AddressRange.parse("2001:db8::/32")));
        assertTrue(list.add(AddressRange.parse("1.2.3.4")));
        assertFalse(list.add(AddressRange.parse("192.0.2.7/32")), "same address, other spelling");
        assertFalse(list.add(AddressRange.parse("10.0.0.0/8")), "same range, other spelling");
        assertFalse(list.add(AddressRange.parse("2001:DB8:0::1/32")), "same range, other spelling");
        assertTrue(list.add(AddressRange.parse("10.0.0.0/16")), "a narrower range is another entry");
        assertEquals(List.of("192.0.2.7", "10.0.0.0/8", "2001:db8::/32", "1.2.3.4", "10.0.0.0/16"),
                list.entries().stream().map(AddressRange::toString).toList(), "kept in the order added");

        assertTrue(list.allows(ip("10.200.0.1")));
        assertTrue(list.allows(ip("2001:db8:1::5")));
        assertTrue(list.allows(ip("::ffff:1.2.3.4")));
        assertFalse(list.allows(ip("192.0.2.8")));
        assertFalse(list.allows(ip("2001:db9::1")));

        assertFalse(list.remove(AddressRange.parse("10.0.0.0/9")), "only exactly an entry is removed");
        assertFalse(list.remove(AddressRange.parse("10.1.2.3")), "removing an address does not punch a hole in a range");
        assertTrue(list.allows(ip("10.1.2.3")));
        assertTrue(list.remove(AddressRange.parse("10.9.9.9/8")), "any spelling of the entry removes it");
        assertFalse(list.remove(AddressRange.parse("10.0.0.0/8")), "already gone");
        assertTrue(list.allows(ip("10.0.200.1")), "still inside the /16");
        assertFalse(list.allows(ip("10.1.2.3")));
        assertEquals(List.of("192.0.2.7", "2001:db8::/32", "1.2.3.4", "10.0.0.0/16"),
                list.entries().stream().map(AddressRange::toString).toList());

        assertTrue(list.add(AddressRange.parse("10.0.0.0/8")), "re-added at the end");
        assertEquals("10.0.0.0/8", list.entries().get(list.entries().size() - 1).toString());
    }

    @Test
    void allowlistEntriesAreASnapshot() {
        Allowlist list = new Allowlist();
        list.add(AddressRange.parse("192.0.2.1"));
        List<AddressRange> before = list.entries();
        list.add(AddressRange.parse("192.0.2.2"));
        assertEquals(1, before.size());
        assertThrows(UnsupportedOperationException.class, () -> before.add(AddressRange.parse("192.0.2.3")));
        assertEquals(2, list.entries().size());
    }

    @Test
    void allowlistReplaceAllDropsDuplicatesAndKeepsOrder() {
        Allowlist list = new Allowlist();
        list.add(AddressRange.parse("203.0.113.1"));
        list.replaceAll(List.of(AddressRange.parse("192.0.2.2"), AddressRange.parse("192.0.2.1"),
                AddressRange.parse("192.0.2.2/32"), AddressRange.parse("::1")));
        assertEquals(List.of("192.0.2.2", "192.0.2.1", "::1"),
                list.entries().stream().map(AddressRange::toString).toList());
        assertFalse(list.allows(ip("203.0.113.1")));
    }

    /** A tunnel thread checking while the operator edits must never see an error or a torn list. */
    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void allowlistChangesAreSeenAtOnceByOtherThreads() throws Exception {
        Allowlist list = new Allowlist();
        AddressRange keep = AddressRange.parse("192.0.2.1");
        list.add(keep);
        AtomicBoolean stop = new AtomicBoolean();
        List<Throwable> failures = new ArrayList<>();
        CountDownLatch started = new CountDownLatch(1);
        Thread reader = Thread.ofPlatform().start(() -> {
            started.countDown();
            try {
                while (!stop.get()) {
                    if (!list.allows(ip("192.0.2.1"))) {
                        throw new AssertionError("a kept entry disappeared");
                    }
                    list.entries().forEach(AddressRange::toString);
                }
            } catch (Throwable t) {
                synchronized (failures) {
                    failures.add(t);
                }
            }
        });
        assertTrue(started.await(5, TimeUnit.SECONDS));
        for (int i = 0; i < 2000; i++) {
            AddressRange r = AddressRange.parse("10." + (i % 250) + ".0.0/16");
            list.add(r);
            assertTrue(list.allows(ip("10." + (i % 250) + ".1.1")), "visible right after add");
            list.remove(r);
            assertFalse(list.allows(ip("10." + (i % 250) + ".1.1")), "gone right after remove");
        }
        stop.set(true);
        reader.join(5000);
        assertTrue(failures.isEmpty(), () -> failures.toString());
    }
}
