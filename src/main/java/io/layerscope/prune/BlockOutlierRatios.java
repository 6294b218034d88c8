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
        double sum = 0;
        long numel = 0;
        for (PrunableLayer l : layers) {
            float[] norm = actNorms.get(l.tapKey());
            sum += new Slices(ckpt, l, norm).sum();
            numel += (long) l.outFeatures() * l.inFeatures();
        }
        float mean = (float) (sum / numel);
        float[] thresholds = new float[multipliers.length];
        for (int m = 0; m < multipliers.length; m++) {
            thresholds[m] = mean * (float) multipliers[m];
        }
        long[] above = new long[multipliers.length];
        for (PrunableLayer l : layers) {
            new Slices(ckpt, l, actNorms.get(l.tapKey())).countAbove(thresholds, above);
        }
        double[] percent = new double[multipliers.length];
        for (int m = 0; m < multipliers.length; m++) {
            percent[m] = (double) above[m] / numel * 100;
        }
        return new Result(block, percent);
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
            int in = layer.inFeatures();
            int[] metric = new int[in];
            forEachRow((w, from) -> {
                for (int j = 0; j < in; j++) {
                    metric[j] = Float.floatToRawIntBits(Math.abs(w[from + j]) * actNorm[j]);
                }
                for (int m = 0; m < thresholds.length; m++) {
                    counts[m] += BlockOutlierRatios.countAbove(metric, in, thresholds[m]);
                }
            });
        }


        void forEachRow(Rows visitor) {
            SafetensorsFile.RowBlocks blocks = ckpt.fileOf(layer.weightTensor()).rowBlocks(layer.weightTensor());
            int in = layer.inFeatures();
            int rows = Math.max(1, SLICE_ENTRIES / in);
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
