package io.layerscope.stats;

import io.layerscope.model.HalfFloats;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;

/**
 * The inputs the statistics benchmarks share, fixed by seeds so every benchmark measures the same
 * layer: a bf16-representable Gaussian weight like a trained LLaMA's (std 0.02) and scaler_rows
 * spread over many orders of magnitude like real activations'.
 */
public final class BenchLayerInputs {
    private BenchLayerInputs() {
    }

    /** [out, in] row-major, each value N(0, 0.02) rounded to bf16. */
    public static float[] bf16Gaussian(int out, int in) {
        SplittableRandom random = new SplittableRandom(7);
        float[] w = new float[out * in];
        for (int k = 0; k < w.length; k++) {
            w[k] = HalfFloats.bf16ToFloat(HalfFloats.floatToBf16((float) (0.02 * random.nextGaussian())));
        }
        return w;
    }

    /** {@code in} values exp(N(0, 4)). */
    public static float[] scalerRow(int in) {
        SplittableRandom random = new SplittableRandom(8);
        float[] scalerRow = new float[in];
        for (int j = 0; j < in; j++) {
            scalerRow[j] = (float) Math.exp(4 * random.nextGaussian());
        }
        return scalerRow;
    }

    /**
     * The residual stream of {@code sequences} sequences of {@code tokens} tokens around one block,
     * [sequences, tokens, hidden] row-major: the input N(0, 1) with channel 3 at 8 times that (an
     * outlier feature, as LLaMAs have), the output the input plus N(0, 0.1).
     *
     * @return the input and the output
     */
    public static float[][] residualStreams(int sequences, int tokens, int hidden) {
        SplittableRandom random = new SplittableRandom(9);
        float[] in = new float[sequences * tokens * hidden];
        float[] out = new float[in.length];
        for (int k = 0; k < in.length; k++) {
            in[k] = (float) ((k % hidden == 3 ? 8 : 1) * random.nextGaussian());
            out[k] = in[k] + (float) (0.1 * random.nextGaussian());
        }
        return new float[][] {in, out};
    }

    /** CPU time of the whole JVM (pool threads included). */
    public static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
