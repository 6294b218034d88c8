package io.layerscope.stats;

import java.util.SplittableRandom;

import io.layerscope.model.HalfFloats;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Wall time of {@link LayerStatistics#compute} on layer shapes of Llama-3.2-1B, with bf16-rounded
 * Gaussian weights. Excluded from the default test run (tag {@code benchmark}). The pom fixes
 * surefire's excludedGroups, so run it from the compiled classes:
 * {@code mvn -o -q -B test-compile && java -cp target/classes:target/test-classes io.layerscope.stats.LayerStatisticsBenchmark}.
 */
@Tag("benchmark")
class LayerStatisticsBenchmark {

    public static void main(String[] args) {
        new LayerStatisticsBenchmark().mlpLayer8192x2048();
        new LayerStatisticsBenchmark().downProj2048x8192();
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
            w[k] = HalfFloats.bf16ToFloat(HalfFloats.floatToBf16((float) (0.02 * gaussian(random))));
        }
        float[] scalerRow = new float[in];
        for (int j = 0; j < in; j++) {
            scalerRow[j] = (float) Math.exp(4 * gaussian(random));
        }
        for (int r = 0; r < repeats; r++) {
            long start = System.nanoTime();
            LayerStats stats = LayerStatistics.compute(w, out, in, scalerRow);
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("LayerStatistics.compute %dx%d: %.3f s (agree_row %.4f)%n", out, in, seconds,
                    stats.masks().row());
        }
    }

    private static double gaussian(SplittableRandom random) {
        double u = random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log1p(-u)) * Math.cos(2 * Math.PI * v);
    }
}
