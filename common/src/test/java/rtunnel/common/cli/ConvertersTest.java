package rtunnel.common.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import picocli.CommandLine.TypeConversionException;

class ConvertersTest {
    @ParameterizedTest
    @ValueSource(strings = {"0", "65536", "70000", "abc", "-1", "", "22 ", "+22", "99999999999"})
    void badPortsAreRefused(String value) {
        assertThrows(TypeConversionException.class, () -> new Converters.Port().convert(value));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "22", "632", "65535"})
    void goodPortsAreAccepted(String value) {
        assertEquals(Integer.parseInt(value), new Converters.Port().convert(value));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2.3", "1.2.3.256", "localhost", "::1", "1.2.3.4/24", ""})
    void ipv4OptionsTakeOnlyDottedQuads(String value) {
        assertThrows(TypeConversionException.class, () -> new Converters.Ipv4().convert(value));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "1000001", "x"})
    void countsMustBePositive(String value) {
        assertThrows(TypeConversionException.class, () -> new Converters.PositiveCount().convert(value));
    }
}
