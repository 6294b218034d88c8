package io.layerscope.stats;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.ForkJoinPool;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Time of {@link LayerStatistics#compute} on layer shapes of Llama-3.2-1B, with bf16-rounded
 * Gaussian weights; prints wall and CPU seconds (CPU time is the honest number on a shared
 * machine). Excluded from the default test run (tag {@code benchmark}); run it with
 * {@code mvn -o -q -B test -Dtest=LayerStatisticsBenchmark -DexcludedGroups= -Dgroups=benchmark},
 * or from the compiled classes:
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

    /**
     * A small model's lm_head (128256 x 512) on the calling thread and on pools of 1 and 2 threads,
     * alternating, best of three each; prints the times and the speed-up of 2 threads over 1, and
     * checks that every run gives the calling thread's statistics.
     */
    @Test
    void smallLmHeadOnOneAndTwoThreads() {
        int out = 128256;
        int in = 512;
        float[] w = BenchLayerInputs.bf16Gaussian(out, in);
        float[] scalerRow = BenchLayerInputs.scalerRow(in);
        ForkJoinPool one = new ForkJoinPool(1);
        ForkJoinPool two = new ForkJoinPool(2);
        try {
            LayerStats expected = LayerStatistics.compute("lm_head", w, out, in, scalerRow); // also warms up
            double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
            String[] names = {"calling thread", "pool of 1", "pool of 2"};
            for (int round = 0; round < 3; round++) {
                for (int k = 0; k < 3; k++) {
                    ForkJoinPool pool = k == 0 ? null : k == 1 ? one : two;
                    long wall = System.nanoTime();
                    long cpu = BenchLayerInputs.processCpuNanos();
                    LayerStats stats = pool == null ? LayerStatistics.compute("lm_head", w, out, in, scalerRow)
                            : LayerStatistics.compute("lm_head", w, out, in, scalerRow, pool);
                    double seconds = (System.nanoTime() - wall) / 1e9;
                    double cpuSeconds = (BenchLayerInputs.processCpuNanos() - cpu) / 1e9;
                    // on a shared machine CPU / wall says how many cores the run actually got
                    System.out.printf("LayerStatistics.compute %dx%d on %s: %.3f s wall, %.3f s process CPU"
                            + " (%.2f cores busy)%n", out, in, names[k], seconds, cpuSeconds, cpuSeconds / seconds);
                    best[k] = Math.min(best[k], seconds);
                    if (!stats.equals(expected)) {
                        throw new AssertionError(names[k] + " gave different statistics: " + stats + " vs " + expected);
                    }
                }
            }
            System.out.printf("best of 3: calling thread %.3f s, 1 thread %.3f s, 2 threads %.3f s;"
                    + " 1 thread / 2 threads = %.2f (on %d available processors)%n", best[0], best[1], best[2],
                    best[1] / best[2], Runtime.getRuntime().availableProcessors());
        } finally {
            one.shutdown();
            two.shutdown();
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
        float[] w = BenchLayerInputs.bf16Gaussian(out, in);
        float[] scalerRow = BenchLayerInputs.scalerRow(in);
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
