package io.layerscope.stats;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.SplittableRandom;

import io.layerscope.model.HalfFloats;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Time of {@link LayerStatistics#compute} on layer shapes of Llama-3.2-1B, with bf16-rounded
 * Gaussian weights; prints wall and CPU seconds (CPU time is the honest number on a shared
 * machine). Excluded from the default test run (tag {@code benchmark}). The pom fixes surefire's
 * excludedGroups, so run it from the compiled classes:
 * {@code mvn -o -q -B test-compile && java -Xmx3g -cp target/classes:target/test-classes io.layerscope.stats.LayerStatisticsBenchmark [lm_head]}
 * ({@code lm_head} adds the 128256 x 2048 layer: 1 GiB of weights; it runs in {@code -Xmx2g}).
 */
@Tag("benchmark")
class LayerStatisticsBenchmark {

    public static void main(String[] args) {
        LayerStatisticsBenchmark benchmark = new LayerStatisticsBenchmark();
        benchmark.mlpLayer8192x2048();
        benchmark.downProj2048x8192();
        if (args.length > 0 && args[0].equals("lm_head")) {
            time(128256, 2048, 1);
        }
    }

    @Test
    void mlpLayer8192x2048() {
        time(8192, 2048, 3);
    }

    @Test
    void downProj2048x8192() {
        time(2048, 8192, 2);
    }

    private static void time(int out, int in, int repeats) {
        SplittableRandom random = new SplittableRandom(7);
        float[] w = new float[out * in];
        for (int k = 0; k < w.length; k++) {
            w[k] = HalfFloats.bf16ToFloat(HalfFloats.floatToBf16((float) (0.02 * random.nextGaussian())));
        }
        float[] scalerRow = new float[in];
        for (int j = 0; j < in; j++) {
            scalerRow[j] = (float) Math.exp(4 * random.nextGaussian());
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int r = 0; r < repeats; r++) {
            long wall = System.nanoTime();
            long cpu = threads.getCurrentThreadCpuTime();
            LayerStats stats = LayerStatistics.compute(w, out, in, scalerRow);
            System.out.printf("LayerStatistics.compute %dx%d: %.3f s wall, %.3f s CPU (agree_row %.4f)%n", out, in,
                    (System.nanoTime() - wall) / 1e9, (threads.getCurrentThreadCpuTime() - cpu) / 1e9,
                    stats.masks().row());
        }
    }
}
