import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Samples from several paths in alternating rounds (the echo and session setup rows). */
final class Rounds {
    private Rounds() {
    }

    /** {@code n} samples (ns) from the path named {@code path}. */
    interface Sampler {
        long[] sample(String path, int n) throws Exception;
    }

    /**
     * {@code rounds} rounds of {@code per} samples from every path, the paths taking turns and each
     * round starting one path further on, so that all of them share the same minutes of a machine
     * whose speed drifts. Returns each path's samples, sorted; {@code roundP50} gets each round's p50.
     */
    static Map<String, long[]> run(List<String> names, int rounds, int per, Sampler sampler,
            Map<String, List<Long>> roundP50) throws Exception {
        Map<String, long[]> all = new LinkedHashMap<>();
        for (String n : names) {
            all.put(n, new long[rounds * per]);
            roundP50.put(n, new ArrayList<>());
        }
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < names.size(); k++) {
                String n = names.get((r + k) % names.size());
                long[] got = sampler.sample(n, per);
                System.arraycopy(got, 0, all.get(n), r * per, per);
                Arrays.sort(got);
                roundP50.get(n).add(got[per / 2]);
            }
        }
        for (long[] a : all.values()) {
            Arrays.sort(a);
        }
        return all;
    }

    /** {@code ns}, each divided by {@code unit} and formatted, joined with commas. */
    static String joined(List<Long> ns, double unit, String format) {
        List<String> out = new ArrayList<>();
        for (long v : ns) {
            out.add(String.format(format, v / unit));
        }
        return String.join(", ", out);
    }
}
