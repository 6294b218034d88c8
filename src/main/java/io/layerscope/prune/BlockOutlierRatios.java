package io.layerscope.prune;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.SafetensorsFile;
import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * OWL's layer outlier ratio, which OWL computes per decoder BLOCK: the Wanda metrics
 * M = |W| * sqrt(scaler_row) of the block's seven Linears concatenated, and D = 100 x the share of
 * entries with M > multiplier x mean(M) (strict), in percent as OWL prints it. Two passes over the
 * weights read in slices of rows, so no layer is held whole.
 *
 * <p>The mean is summed in double in row order and rounded to float32, and the threshold is that
 * float32 mean times the multiplier in float32, as torch computes {@code torch.mean(W) * M} on a
 * float32 tensor (torch's own float32 sum may differ from the exact one in the last bit).
 */
public final class BlockOutlierRatios {
    /** Rows read per slice: bounds the scratch to a few MB for any layer. */
    private static final int SLICE_ENTRIES = 1 << 20;
    private static final int INFINITY_BITS = 0x7f800000;

    /** A block's ratios in percent, one per multiplier, in the order asked. */
    public record Result(int block, double[] percent) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    private BlockOutlierRatios() {
    }

    /**
     * @param layers   the block's prunable layers (all seven)
     * @param actNorms sqrt(scaler_row) per tap key, float32
     */
    public static Result compute(Checkpoint ckpt, int block, List<PrunableLayer> layers, Map<String, float[]> actNorms,
                                 double[] multipliers) {
        float[] thresholds = thresholds(mean(ckpt, layers, actNorms), multipliers);
        long[] above = new long[multipliers.length];
        for (PrunableLayer l : layers) {
            new Slices(ckpt, l, actNorms.get(l.tapKey())).countAbove(thresholds, above);
        }
        return result(block, above, entries(layers));
    }

    /**
     * The mean of the block's metric, the first of {@link #compute}'s two passes: summed in double in
     * row order, each layer's sum from 0 and the layers' sums added in the order given, rounded to float32.
     */
    public static float mean(Checkpoint ckpt, List<PrunableLayer> layers, Map<String, float[]> actNorms) {
        double sum = 0;
        for (PrunableLayer l : layers) {
            sum += new Slices(ckpt, l, actNorms.get(l.tapKey())).sum();
        }
        return (float) (sum / entries(layers));
    }

    /** The thresholds of the mean: the float32 mean times each multiplier in float32, as torch computes them. */
    public static float[] thresholds(float mean, double[] multipliers) {
        float[] thresholds = new float[multipliers.length];
        for (int m = 0; m < multipliers.length; m++) {
            thresholds[m] = mean * (float) multipliers[m];
        }
        return thresholds;
    }

    /** A block's ratios from its counts above the thresholds and its number of entries. */
    public static Result result(int block, long[] above, long entries) {
        double[] percent = new double[above.length];
        for (int m = 0; m < above.length; m++) {
            percent[m] = (double) above[m] / entries * 100;
        }
        return new Result(block, percent);
    }

    /** The entries of the layers' weights together. */
    public static long entries(List<PrunableLayer> layers) {
        long numel = 0;
        for (PrunableLayer l : layers) {
            numel += (long) l.outFeatures() * l.inFeatures();
        }
        return numel;
    }

    /**
     * The second pass over one layer already read whole: adds to {@code counts[m]} its entries whose
     * metric |W| x actNorm (float32) is above {@code thresholds[m]}, as {@link #compute} counts them.
     *
     * @param w       the weight, float32 row-major [out, in]
     * @param actNorm sqrt(scaler_row) of the layer's input, float32
     */
    public static void countAbove(float[] w, int out, int in, float[] actNorm, float[] thresholds, long[] counts) {
        int[] metric = new int[in];
        for (int i = 0; i < out; i++) {
            countRow(w, i * in, in, actNorm, metric, thresholds, counts);
        }
    }

    private static void countRow(float[] w, int from, int in, float[] actNorm, int[] metric, float[] thresholds,
                                 long[] counts) {
        for (int j = 0; j < in; j++) {
            metric[j] = Float.floatToRawIntBits(Math.abs(w[from + j]) * actNorm[j]);
        }
        for (int m = 0; m < thresholds.length; m++) {
            counts[m] += countAbove(metric, in, thresholds[m]);
        }
    }

    /**
     * How many of the metric bits {@code bits[0..n)} (non-negative floats or NaN) are of floats
     * {@code > t}. For t >= 0 that is an integer comparison of the bits, NaN excluded, branch-free
     * so the JIT vectorizes it; any other t compares the floats.
     */
    static long countAbove(int[] bits, int n, float t) {
        int tb = Float.floatToRawIntBits(t);
        long count = 0;
        if (tb >= 0 && tb <= INFINITY_BITS) {
            int c = 0;
            for (int j = 0; j < n; j++) {
                // sign bits of (t < x) and (x <= infinity), both as bit patterns
                c += ((tb - bits[j]) & (bits[j] - INFINITY_BITS - 1)) >>> 31;
            }
            count = c;
        } else {
            for (int j = 0; j < n; j++) {
                if (Float.intBitsToFloat(bits[j]) > t) {
                    count++;
                }
            }
        }
        return count;
    }

    /**
     * One layer's metric, visited slice by slice and row by row: the column index is the loop's own
     * (a remainder per entry cost more than the rest of the work), and the sum keeps row-major order.
     */
    private record Slices(Checkpoint ckpt, PrunableLayer layer, float[] actNorm) {
        interface Rows {
            /** Row {@code w[from, from + in)} of the weight. */
            void visit(float[] w, int from);
        }

        double sum() {
            int in = layer.inFeatures();
            double[] s = {0};
            forEachRow((w, from) -> {
                double sum = s[0];
                for (int j = 0; j < in; j++) {
                    sum += Math.abs(w[from + j]) * actNorm[j];
                }
                s[0] = sum;
            });
            return s[0];
        }

        void countAbove(float[] thresholds, long[] counts) {
            int[] metric = new int[layer.inFeatures()];
            forEachRow((w, from) -> countRow(w, from, layer.inFeatures(), actNorm, metric, thresholds, counts));
        }

        void forEachRow(Rows visitor) {
            int in = layer.inFeatures();
            int rows = Math.max(1, SLICE_ENTRIES / in);
            try (SafetensorsFile.RowBlocks blocks = ckpt.fileOf(layer.weightTensor()).rowBlocks(layer.weightTensor())) {
                for (int first = 0; first < layer.outFeatures(); first += rows) {
                    int n = Math.min(rows, layer.outFeatures() - first);
                    float[] w = blocks.read(first, n);
                    for (int r = 0; r < n; r++) {
                        visitor.visit(w, r * in);
                    }
                }
            }
        }
    }
}
