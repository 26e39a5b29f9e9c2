package rtunnel.common.cli;

import java.net.InetAddress;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;
import rtunnel.common.net.IpAddresses;

/** Option value converters that check values once, at the edge, with messages that name the fix. */
public final class Converters {
    private Converters() {
    }

    /** A TCP port 1-65535. */
    public static final class Port implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return parsePort(value, 1);
        }
    }

    /** A TCP port 0-65535, where 0 asks the system for a free one. */
    public static final class PortOrZero implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return parsePort(value, 0);
        }
    }

    /** A literal IPv4 address (the original's options take IPv4 only); never a DNS lookup. */
    public static final class Ipv4 implements ITypeConverter<InetAddress> {
        @Override
        public InetAddress convert(String value) {
            try {
                return IpAddresses.parseIpv4(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** A literal IPv4 or IPv6 address. */
    public static final class Ip implements ITypeConverter<InetAddress> {
        @Override
        public InetAddress convert(String value) {
            try {
                return IpAddresses.parseLiteral(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** A whole number of seconds, 0 or more. */
    public static final class Seconds implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long n = parseLong(value, "a whole number of seconds");
            if (n < 0 || n > 365L * 24 * 3600) {
                throw new TypeConversionException("'" + value + "' is out of range (0 to 31536000 seconds)");
            }
            return n;
        }
    }

    /** A count of at least 1. */
    public static final class PositiveCount implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            long n = parseLong(value, "a whole number");
            if (n < 1 || n > 1_000_000) {
                throw new TypeConversionException("'" + value + "' is out of range (1 to 1000000)");
            }
            return (int) n;
        }
    }

    /** {@code LOW-HIGH}, both ports, LOW at most HIGH; a usage error otherwise. */
    public static int[] portRange(String option, String value) throws RtunnelException {
        String[] p = value.split("-", -1);
        try {
            if (p.length == 2) {
                int low = parsePort(p[0], 1);
                int high = parsePort(p[1], 1);
                if (low <= high) {
                    return new int[] {low, high};
                }
            }
        } catch (TypeConversionException e) {
            // Reported below with the whole value.
        }
        throw RtunnelException.usage("invalid value for " + option + ": '" + value
                + "' is not a port range LOW-HIGH (like 40000-40999)");
    }

    static int parsePort(String value, int min) {
        long n = parseLong(value, "a port number");
        if (n < min || n > 65535) {
            throw new TypeConversionException("'" + value + "' is not a port number (" + min + " to 65535)");
        }
        return (int) n;
    }

    private static long parseLong(String value, String what) {
        if (value == null || !value.matches("[0-9]{1,10}")) {
            throw new TypeConversionException("'" + value + "' is not " + what);
        }
        return Long.parseLong(value);
    }
}
