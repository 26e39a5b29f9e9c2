import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/** Collects rows, prints the markdown table, writes results.md and the chart. */
final class Report {
    record Row(String section, String what, String value, String target, String verdict) {
    }

    final List<Row> rows = new ArrayList<>();
    /** path name -> {download MB/s, upload MB/s} for the chart. */
    final Map<String, double[]> throughput = new LinkedHashMap<>();
    /** path name -> {p50 µs, p99 µs}. */
    final Map<String, double[]> rtt = new LinkedHashMap<>();
    final List<String> notes = new ArrayList<>();

    void row(String section, String what, String value) {
        add(new Row(section, what, value, "", ""));
    }

    void target(String section, String what, String value, String target, boolean pass) {
        add(new Row(section, what, value, target, pass ? "PASS" : "FAIL"));
    }

    void error(String section, Throwable e) {
        add(new Row(section, "error", String.valueOf(e).replace('|', '/').replace('\n', ' '), "", "ERROR"));
    }

    private void add(Row r) {
        rows.add(r);
        System.out.println("  " + r.section + " | " + r.what + " | " + r.value
                + (r.target.isEmpty() ? "" : " | target " + r.target + " | " + r.verdict));
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("| # | measurement | result | target | verdict |\n|---|---|---|---|---|\n");
        for (Row r : rows) {
            sb.append("| ").append(r.section).append(" | ").append(r.what).append(" | ").append(r.value)
                    .append(" | ").append(r.target).append(" | ").append(r.verdict).append(" |\n");
        }
        return sb.toString();
    }

    void write(Path md, Path png, String header) throws IOException {
        String table = markdown();
        System.out.println();
        System.out.println(table);
        StringBuilder sb = new StringBuilder(header).append("\n").append(table);
        if (!notes.isEmpty()) {
            sb.append("\nNotes:\n");
            for (String n : notes) {
                sb.append("- ").append(n).append('\n');
            }
        }
        Files.writeString(md, sb.toString());
        chart(png);
    }

    private void chart(Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<CategoryChart> charts = new ArrayList<>();
        if (!throughput.isEmpty()) {
            CategoryChart c = new CategoryChartBuilder().width(1100).height(520)
                    .title("One session, throughput (MB/s, median; loopback)").yAxisTitle("MB/s").build();
            c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
            c.getStyler().setXAxisLabelRotation(20);
            List<String> names = new ArrayList<>(throughput.keySet());
            c.addSeries("service -> user (down)", names, names.stream().map(n -> throughput.get(n)[0]).toList());
            c.addSeries("user -> service (up)", names, names.stream().map(n -> throughput.get(n)[1]).toList());
            charts.add(c);
        }
        if (!rtt.isEmpty()) {
            CategoryChart c = new CategoryChartBuilder().width(1100).height(420)
                    .title("1-byte echo round trip (µs)").yAxisTitle("µs").build();
            c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
            List<String> names = new ArrayList<>(rtt.keySet());
            c.addSeries("p50", names, names.stream().map(n -> rtt.get(n)[0]).toList());
            c.addSeries("p99", names, names.stream().map(n -> rtt.get(n)[1]).toList());
            charts.add(c);
        }
        if (!charts.isEmpty()) {
            BitmapEncoder.saveBitmap(charts, charts.size(), 1, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        }
    }
}
