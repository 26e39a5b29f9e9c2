package rtunnel.common.control;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import rtunnel.common.net.IpAddresses;

/**
 * The text the control options print: the original's line formats (so scripts written for it keep
 * working), with our extra fields appended at the end of the line, or one JSON document per request.
 */
public final class ControlFormat {
    /** C ctime() without the newline: {@code Thu Nov 16 19:20:28 2023}, day padded with a space. */
    private static final DateTimeFormatter CTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US);

    private ControlFormat() {
    }

    public static List<String> tunnels(List<TunnelInfo> tunnels, boolean json) {
        if (json) {
            StringBuilder s = new StringBuilder("[");
            for (TunnelInfo t : tunnels) {
                if (s.length() > 1) {
                    s.append(',');
                }
                s.append("{\"id\":").append(t.id())
                        .append(",\"port\":").append(t.port())
                        .append(",\"remoteip\":").append(t.remoteIp() == null ? "null" : quote(IpAddresses.format(t.remoteIp())))
                        .append(",\"hostname\":").append(quote(t.hostname()))
                        .append(",\"connected\":").append(quote(t.connectedAt().toString()))
                        .append(",\"protocol\":").append(t.protocol())
                        .append(",\"sessions\":").append(t.sessions())
                        .append(",\"bytes_in\":").append(t.bytesIn())
                        .append(",\"bytes_out\":").append(t.bytesOut())
                        .append(",\"last_heard_ms\":").append(t.lastHeardMillis() < 0 ? "null" : Long.toString(t.lastHeardMillis()))
                        .append('}');
            }
            return List.of(s.append(']').toString());
        }
        List<String> lines = new ArrayList<>();
        for (TunnelInfo t : tunnels) {
            lines.add("Tunnel: id:" + t.id() + " port:" + t.port()
                    + " remoteip:" + (t.remoteIp() == null ? "-" : IpAddresses.format(t.remoteIp()))
                    + " hostname:" + t.hostname()
                    + " timestamp:" + CTIME.format(t.connectedAt().atZone(ZoneId.systemDefault()))
                    + " protocol:" + t.protocol() + " sessions:" + t.sessions()
                    + " bytes_in:" + t.bytesIn() + " bytes_out:" + t.bytesOut()
                    + " last_heard:" + (t.lastHeardMillis() < 0 ? "-" : t.lastHeardMillis() / 1000 + "s"));
        }
        return lines;
    }

    public static List<String> addresses(List<String> addresses, boolean json) {
        if (json) {
            StringBuilder s = new StringBuilder("[");
            for (String a : addresses) {
                s.append(s.length() > 1 ? "," : "").append(quote(a));
            }
            return List.of(s.append(']').toString());
        }
        return addresses.stream().map(a -> "IP: " + a).toList();
    }

    public static List<String> address(String address, boolean json) {
        return List.of(json ? "{\"ip\":" + quote(address) + "}" : "IP: " + address);
    }

    /** A JSON string literal; control characters and non-ASCII are escaped. */
    public static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
