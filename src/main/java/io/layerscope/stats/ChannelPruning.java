package io.layerscope.stats;

import java.util.Arrays;

/**
 * Which of some input channels (columns of W) Wanda's per-row mask touches: a channel is pruned in
 * a layer when the mask prunes W[i, c] in at least one row i. Used to tell which layers' masks cut
 * into systematic outlier features.
 *
 * <pre>{@code
 * boolean[] hit = ChannelPruning.wandaRow(w, out, in, scalerRow, 0.5, new int[] {3, 17});
 * }</pre>
 */
public final class ChannelPruning {
    /** Values per block of rows read at a time. */
    private static final int BLOCK_VALUES = 1 << 20;

    /** Rows {@code [first, first + count)} of a weight, row-major, at the start of the array returned (which may be longer). */
    @FunctionalInterface
    public interface Rows {
        float[] read(int first, int count);
    }

    private ChannelPruning() {
    }

    /** For each of {@code channels}, whether Wanda's per-row mask at {@code sparsity} prunes a weight in its column. */
    public static boolean[] wandaRow(float[] w, int out, int in, float[] scalerRow, double sparsity, int[] channels) {
        return wandaRow((first, count) -> Arrays.copyOfRange(w, first * in, (first + count) * in), out, in, scalerRow,
                sparsity, channels);
    }

    /** As {@link #wandaRow(Rows, int, int, float[], double, int[])}. */
    public static boolean[] wandaRow(Rows w, int out, int in, float[] scalerRow, double sparsity, int[] channels) {
        return wanda(w, out, in, scalerRow, sparsity, 0, 0, channels);
    }

    /**
     * For each of {@code channels}, whether Wanda's N:M mask (the {@code n} smallest of every {@code m}
     * consecutive columns) prunes a weight in its column.
     */
    public static boolean[] wandaNOfM(Rows w, int out, int in, float[] scalerRow, int n, int m, int[] channels) {
        return wanda(w, out, in, scalerRow, 0, n, m, channels);
    }

    /**
     * Reads the weight a block of rows at a time, and only as far as needed: once every
     * channel is hit no further row can change the answer. Where many channels are asked about (every
     * channel of a tap can be an outlier feature) a few rows settle it.
     *
     * <p>A row whose entries below the smallest metric of the channels still open number at least the
     * count the mask prunes cannot prune any of them (those entries come first in any order of ties),
     * so it is settled by that count alone, without building its mask. Outlier features, whose large
     * activation norms make their metrics large, are rarely pruned: most rows are settled that way
     * (unstructured masks; an N:M row is masked whole).
     */
    private static boolean[] wanda(Rows w, int out, int in, float[] scalerRow, double sparsity, int n, int m,
                                   int[] channels) {
        float[] actNorm = new float[in];
        for (int j = 0; j < in; j++) {
            actNorm[j] = (float) Math.sqrt(scalerRow[j]);
        }
        RowPruner pruner = new RowPruner(in, sparsity);
        float[] metric = new float[in];
        byte[] mask = new byte[in];
        boolean[] hit = new boolean[channels.length];
        int left = channels.length;
        int blockRows = Math.max(1, BLOCK_VALUES / Math.max(1, in));
        for (int first = 0; first < out && left > 0; first += blockRows) {
            int count = Math.min(blockRows, out - first);
            float[] block = w.read(first, count);
            for (int r = 0; r < count && left > 0; r++) {
                for (int j = 0; j < in; j++) {
                    metric[j] = Math.abs(block[r * in + j]) * actNorm[j];
                }
                if (m > 0) {
                    RowPruner.nOfM(metric, n, m, mask);
                } else if (countBelow(metric, smallestOpen(metric, channels, hit)) >= pruner.pruneCount()) {
                    continue;
                } else {
                    pruner.unstructured(metric, mask);
                }
                for (int k = 0; k < channels.length; k++) {
                    if (!hit[k] && mask[channels[k]] == 1) {
                        hit[k] = true;
                        left--;
                    }
                }
            }
        }
        return hit;
    }

    /** The smallest metric of the channels not yet hit (NaN never; +infinity if none is smaller). */
    private static float smallestOpen(float[] metric, int[] channels, boolean[] hit) {
        float min = Float.POSITIVE_INFINITY;
        for (int k = 0; k < channels.length; k++) {
            float v = metric[channels[k]];
            if (!hit[k] && v < min) {
                min = v;
            }
        }
        return min;
    }

    /** How many entries are below {@code t} (NaN never). */
    private static int countBelow(float[] metric, float t) {
        int c = 0;
        for (float v : metric) {
            c += v < t ? 1 : 0;
        }
        return c;
    }
}
