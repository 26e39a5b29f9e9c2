package rtunnel.common.fuzz;

import java.util.Random;

/**
 * A small mutation fuzzer for decoders: random inputs and mutations of valid ones, a bounded
 * number of them. {@code -Dfuzz.iterations=N} runs longer (see {@code make fuzz});
 * {@code -Dfuzz.seed=S} replays a failure, whose seed is in the assertion message.
 */
public final class Fuzz {
    public static final int ITERATIONS = Integer.getInteger("fuzz.iterations", 20_000);
    public static final long SEED = Long.getLong("fuzz.seed", System.nanoTime());

    private Fuzz() {
    }

    public static Random random() {
        return new Random(SEED);
    }

    /** Flips, inserts, deletes, duplicates or overwrites with boundary values. */
    public static byte[] mutate(Random r, byte[] in) {
        byte[] b = in.clone();
        int rounds = 1 + r.nextInt(4);
        for (int k = 0; k < rounds; k++) {
            switch (r.nextInt(6)) {
                case 0 -> {
                    if (b.length > 0) {
                        b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                    }
                }
                case 1 -> {
                    if (b.length > 0) {
                        b[r.nextInt(b.length)] = (byte) new int[] {0, 0xff, 0x7f, 0x80, 0x01}[r.nextInt(5)];
                    }
                }
                case 2 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length + 1));
                case 3 -> {
                    byte[] extra = bytes(r, 1 + r.nextInt(16));
                    byte[] c = java.util.Arrays.copyOf(b, b.length + extra.length);
                    System.arraycopy(extra, 0, c, b.length, extra.length);
                    b = c;
                }
                case 4 -> {
                    if (b.length > 1) {
                        int i = r.nextInt(b.length);
                        int j = r.nextInt(b.length);
                        byte t = b[i];
                        b[i] = b[j];
                        b[j] = t;
                    }
                }
                default -> {
                    if (b.length > 0 && b.length < 4096) {
                        byte[] c = java.util.Arrays.copyOf(b, b.length * 2);
                        System.arraycopy(b, 0, c, b.length, b.length);
                        b = c;
                    }
                }
            }
        }
        return b;
    }

    public static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    public static String where(int i) {
        return "iteration " + i + ", seed " + SEED + " (replay with -Dfuzz.seed=" + SEED + ")";
    }
}
