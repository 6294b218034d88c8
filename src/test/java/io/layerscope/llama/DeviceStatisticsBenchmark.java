package io.layerscope.llama;

import ai.djl.Device;
import io.layerscope.fixtures.Llama1bShapedCheckpoint;
import io.layerscope.stats.BenchLayerInputs;
import io.layerscope.stats.LayerStatistics;
import io.layerscope.stats.LayerStats;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

/**
 * The plain-Java statistics against the libtorch ones on CPU libtorch, paired in one JVM, on one
 * layer of each shape of Llama-3.2-1B (the shapes of {@link Llama1bShapedCheckpoint}, with
 * bf16-rounded Gaussian weights: the fixture's own data are zeros). Per layer and path: best and
 * median wall time of the rounds (the two paths alternate), process CPU time, and the device's
 * op counts (arrays made, bytes they hold, peak bound); checks that both paths agree each round.
 * The Java path runs as stage two runs it: layers of at least 4 Mi weights on a pool of all cores.
 *
 * <p>Run on a quiet machine (lm_head holds 1 GiB of weights; -Xmx4g is enough):
 * {@code mvn -o -q -B test-compile && OMP_WAIT_POLICY=PASSIVE java -Xmx4g -Dai.djl.offline=true
 * -cp target/classes:target/test-classes:$(cat cp.txt) io.layerscope.llama.DeviceStatisticsBenchmark [rounds] [lm_head]}.
 */
public final class DeviceStatisticsBenchmark {
    private DeviceStatisticsBenchmark() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        boolean lmHead = args.length > 1 && args[1].equals("lm_head");
        Map<String, int[]> layers = new LinkedHashMap<>();
        Map<String, long[]> shapes = Llama1bShapedCheckpoint.shapes();
        for (String kind : new String[] {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) {
            long[] s = shapes.get("model.layers.0." + kind + ".weight");
            layers.put(kind, new int[] {(int) s[0], (int) s[1], 16});
        }
        if (lmHead) {
            long[] s = shapes.get("model.embed_tokens.weight");
            layers.put("lm_head", new int[] {(int) s[0], (int) s[1], 1});
        }
        int cores = Runtime.getRuntime().availableProcessors();
        ForkJoinPool pool = new ForkJoinPool(cores);
        // warm both paths up (JIT, libtorch's first calls) on a small layer
        float[] small = BenchLayerInputs.bf16Gaussian(256, 512);
        for (int i = 0; i < 3; i++) {
            LayerStatistics.compute("warm", small, 256, 512, BenchLayerInputs.scalerRow(512), 0.5);
            DeviceLayerStatistics.compute(Device.cpu(), "warm", small, 256, 512, BenchLayerInputs.scalerRow(512), 0.5);
        }
        double javaTotal = 0;
        double deviceTotal = 0;
        System.out.printf("%d cores, %d rounds, libtorch threads %s%n", cores, rounds,
                System.getProperty("ai.djl.pytorch.num_threads", "(default)"));
        for (Map.Entry<String, int[]> e : layers.entrySet()) {
            int out = e.getValue()[0];
            int in = e.getValue()[1];
            float[] w = BenchLayerInputs.bf16Gaussian(out, in);
            float[] scaler = BenchLayerInputs.scalerRow(in);
            boolean usePool = (long) out * in >= 4L << 20;
            double[] javaWall = new double[rounds];
            double[] deviceWall = new double[rounds];
            double[] javaCpu = new double[rounds];
            double[] deviceCpu = new double[rounds];
            OpTally.Counts ops = null;
            for (int r = 0; r < rounds; r++) {
                long t = System.nanoTime();
                long c = BenchLayerInputs.processCpuNanos();
                LayerStats plain = usePool ? LayerStatistics.compute(e.getKey(), w, out, in, scaler, 0.5, pool)
                        : LayerStatistics.compute(e.getKey(), w, out, in, scaler, 0.5);
                javaWall[r] = (System.nanoTime() - t) / 1e9;
                javaCpu[r] = (BenchLayerInputs.processCpuNanos() - c) / 1e9;
                t = System.nanoTime();
                c = BenchLayerInputs.processCpuNanos();
                DeviceLayerStatistics.Result device = DeviceLayerStatistics.compute(Device.cpu(), e.getKey(), w, out, in,
                        scaler, 0.5, DeviceLayerStatistics.CPU_BLOCK_ENTRIES, null);
                deviceWall[r] = (System.nanoTime() - t) / 1e9;
                deviceCpu[r] = (BenchLayerInputs.processCpuNanos() - c) / 1e9;
                ops = device.ops();
                LayerStats d = device.stats();
                if (!plain.masks().equals(d.masks()) || !plain.outliers().equals(d.outliers())
                        || plain.wanda().summary().median() != d.wanda().summary().median()
                        || !plain.ria().histogram().equals(d.ria().histogram())) {
                    throw new AssertionError(e.getKey() + ": the paths disagree: " + plain + " vs " + d);
                }
            }
            double jBest = min(javaWall);
            double dBest = min(deviceWall);
            int count = e.getValue()[2];
            javaTotal += count * jBest;
            deviceTotal += count * dBest;
            System.out.printf("%-16s %6d x %-5d java best %.3f s median %.3f s (CPU %.2f s) | device best %.3f s median"
                            + " %.3f s (CPU %.2f s) | device/java %.2f | ops %d arrays, %.2f GB made, peak <= %.0f MB"
                            + " | %.1f vs %.1f ns/weight%n",
                    e.getKey(), out, in, jBest, median(javaWall), median(javaCpu), dBest, median(deviceWall),
                    median(deviceCpu), dBest / jBest, ops.arrays(), ops.bytes() / 1e9, ops.peakBytes() / 1e6,
                    jBest * 1e9 / ((double) out * in), dBest * 1e9 / ((double) out * in));
        }
        System.out.printf("113-layer stage two statistics (16 of each block kind%s, best times): java %.1f s, device %.1f s%n",
                lmHead ? " + lm_head" : "", javaTotal, deviceTotal);
        pool.shutdown();
    }

    private static double min(double[] v) {
        double m = Double.MAX_VALUE;
        for (double x : v) {
            m = Math.min(m, x);
        }
        return m;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }
}
