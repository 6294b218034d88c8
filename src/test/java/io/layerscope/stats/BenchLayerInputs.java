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

    /** CPU time of the whole JVM (pool threads included). */
    public static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
