package io.layerscope.bench;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.llama.LlamaModel;
import io.layerscope.model.Checkpoint;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Stage one's forward (every tap summed, one sequence per forward, float32 compute) without and
 * with the depth and outlier statistics of issue 17, side by side in one JVM: one warm-up of both,
 * then {@code rounds} rounds, each running both once, the order alternating from round to round so
 * that a load change on a shared machine does not always hit the same side. The figures: the median
 * of the rounds' ratios (with / without), the ratio of the best times, and the time spent inside the
 * accumulator ({@link LlamaModel#depthStatisticsSeconds}) over the same round's time without. The
 * last is the steadiest on a busy machine, where two whole passes differ by more than the
 * statistics cost; it leaves out what the statistics do to the forward around them (caches). The
 * process's CPU seconds of each pass are kept too: less moved by other processes than wall time.
 */
public final class DepthOverhead {
    private DepthOverhead() {
    }

    /** Runs the measurement on the checkpoint in {@code modelDir} over {@code windows}; returns it as JSON. */
    public static ObjectNode measure(Path modelDir, List<int[]> windows, int rounds, PrintStream err) {
        int[] samples = IntStream.range(0, windows.size()).toArray();
        double[] without = new double[rounds];
        double[] with = new double[rounds];
        double[] inside = new double[rounds];
        double[] cpuWithout = new double[rounds];
        double[] cpuWith = new double[rounds];
        ObjectNode out = new ObjectMapper().createObjectNode();
        Checkpoint ckpt = Checkpoint.open(modelDir);
        out.put("blocks", ckpt.config().numHiddenLayers());
        out.put("hidden", ckpt.config().hiddenSize());
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
            List<String> taps = model.tapKeys();
            model.forward(windows.subList(0, 1), 1, taps);
            model.forwardWithDepth(windows.subList(0, 1), new int[] {0}, 1, taps);
            for (int r = 0; r < rounds; r++) {
                for (boolean depth : r % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                    long t0 = System.nanoTime();
                    double c0 = PeakMemory.processCpuSeconds();
                    if (depth) {
                        double before = model.depthStatisticsSeconds();
                        model.forwardWithDepth(windows, samples, 1, taps);
                        with[r] = (System.nanoTime() - t0) / 1e9;
                        inside[r] = model.depthStatisticsSeconds() - before;
                        cpuWith[r] = PeakMemory.processCpuSeconds() - c0;
                    } else {
                        model.forward(windows, 1, taps);
                        without[r] = (System.nanoTime() - t0) / 1e9;
                        cpuWithout[r] = PeakMemory.processCpuSeconds() - c0;
                    }
                }
                err.printf("depth overhead, round %d of %d: without %.3f s, with %.3f s (%+.1f%%), of which in the"
                        + " accumulator %.3f s (%.1f%% of without); CPU %.3f s, %.3f s (%+.1f%%)%n", r + 1, rounds, without[r],
                        with[r], 100 * (with[r] / without[r] - 1), inside[r], 100 * inside[r] / without[r], cpuWithout[r],
                        cpuWith[r], 100 * (cpuWith[r] / cpuWithout[r] - 1));
            }
        }
        out.put("sequences", windows.size());
        out.put("tokens", windows.get(0).length);
        ArrayNode a = out.putArray("without_seconds");
        ArrayNode b = out.putArray("with_seconds");
        ArrayNode c = out.putArray("accumulator_seconds");
        ArrayNode cpuA = out.putArray("without_cpu_seconds");
        ArrayNode cpuB = out.putArray("with_cpu_seconds");
        double[] cpuRatios = new double[rounds];
        double[] ratios = new double[rounds];
        double[] shares = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            a.add(without[r]);
            b.add(with[r]);
            c.add(inside[r]);
            ratios[r] = with[r] / without[r];
            shares[r] = inside[r] / without[r];
            cpuA.add(cpuWithout[r]);
            cpuB.add(cpuWith[r]);
            cpuRatios[r] = cpuWith[r] / cpuWithout[r];
        }
        out.put("median_cpu_ratio", median(cpuRatios));
        out.put("median_accumulator_share", median(shares));
        out.put("median_ratio", median(ratios));
        out.put("best_ratio", Arrays.stream(with).min().orElseThrow() / Arrays.stream(without).min().orElseThrow());
        return out;
    }

    /** The median; the mean of the two middle values for an even count. */
    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
