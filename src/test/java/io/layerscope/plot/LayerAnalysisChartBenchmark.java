package io.layerscope.plot;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Seconds per layer picture (block-max reduction + rendering + PNG encoding) for an
 * 8192 x 2048 layer (Llama-3.2-1B's gate/up_proj) and a 64 x 64 layer, random weights, and the
 * reduction alone for a 128256 x 2048 lm_head. Statistics and
 * histograms are computed once beforehand (they belong to the stats package, not to this cost).
 * Surefire excludes the {@code benchmark} tag (and the pom's setting wins over command-line
 * properties), so run it through {@link #main} on the test class path:
 *
 * <pre>
 * mvn -o -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/test.classpath
 * java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=2 \
 *     -cp target/classes:target/test-classes:$(cat target/test.classpath) \
 *     io.layerscope.plot.LayerAnalysisChartBenchmark
 * </pre>
 *
 * With {@code -Dlayerscope.benchmark.png=DIR} the pictures are kept in DIR.
 */
@Tag("benchmark")
class LayerAnalysisChartBenchmark {
    private static final int RUNS = 5;

    @Test
    void secondsPerPicture() throws java.io.IOException {
        run();
    }

    public static void main(String[] args) throws java.io.IOException {
        run();
    }

    private static void run() throws java.io.IOException {
        try (NDManager nd = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            measure(8192, 2048);
            measure(64, 64);
            measureReductionOnly(nd, 128256, 2048);
        }
    }

    /** lm_head-sized: only the reduction, the weight generated natively (1 GB in float32). */
    private static void measureReductionOnly(NDManager nd, int out, int in) {
        try (NDManager scope = nd.newSubManager()) {
            float[] weight = scope.randomNormal(0, 0.02f, new Shape(out, in), ai.djl.ndarray.types.DataType.FLOAT32).toFloatArray();
            float[] actNorm = SyntheticLayer.create(1, in, 7).actNorm;
            BlockMaxReduction reduction = new BlockMaxReduction();
            reduction.layerHeatmaps(weight, out, in, actNorm);
            long t0 = System.nanoTime();
            for (int run = 0; run < RUNS; run++) {
                reduction.layerHeatmaps(weight, out, in, actNorm);
            }
            System.out.printf(Locale.ROOT, "plot benchmark %6d x %-5d: reduction only %.3f s per layer, %d runs%n", out, in,
                    (System.nanoTime() - t0) / 1e9 / RUNS, RUNS);
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static LayerPlotData withHeatmaps(LayerPlotData d, LayerHeatmaps maps) {
        return new LayerPlotData(d.model(), d.layer(), d.outFeatures(), d.inFeatures(), d.calibration(), maps,
                d.activationNorm(), d.weightHistogram(), d.activationHistogram(), d.wandaHistogram(),
                d.weightStatistics(), d.activationStatistics(), d.wandaStatistics());
    }

    private static void measure(int out, int in) throws java.io.IOException {
        SyntheticLayer layer = SyntheticLayer.create(out, in, 42);
        BlockMaxReduction reduction = new BlockMaxReduction();
        LayerAnalysisChart chart = new LayerAnalysisChart();
        LayerPlotData data = layer.plotData(reduction.layerHeatmaps(layer.weight, out, in, layer.actNorm));
        chart.renderPng(data);                                  // warm-up: engine, fonts, JIT
        long reduceNanos = 0;
        long renderNanos = 0;
        long bytes = 0;
        long cpu0 = processCpuNanos();
        for (int run = 0; run < RUNS; run++) {
            long t0 = System.nanoTime();
            LayerPlotData d = withHeatmaps(data, reduction.layerHeatmaps(layer.weight, out, in, layer.actNorm));
            long t1 = System.nanoTime();
            bytes = chart.renderPng(d).length;
            long t2 = System.nanoTime();
            reduceNanos += t1 - t0;
            renderNanos += t2 - t1;
        }
        double cpu = (processCpuNanos() - cpu0) / 1e9 / RUNS;
        // CPU seconds of the whole process: a fairer figure than wall time on a shared, loaded machine.
        System.out.printf(Locale.ROOT, "plot benchmark %6d x %-5d: %.3f s per PNG (reduction %.3f s, render+encode %.3f s), "
                + "process CPU %.3f s per PNG, %d runs, %d KiB, load average %.1f on %d cores%n", out, in,
                (reduceNanos + renderNanos) / 1e9 / RUNS, reduceNanos / 1e9 / RUNS, renderNanos / 1e9 / RUNS, cpu,
                RUNS, bytes / 1024, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                Runtime.getRuntime().availableProcessors());
        String keep = System.getProperty("layerscope.benchmark.png");
        if (keep != null) {
            java.nio.file.Files.write(java.nio.file.Files.createDirectories(Path.of(keep)).resolve("benchmark_" + out + "x" + in + ".png"),
                    chart.renderPng(data));
        }
    }
}
