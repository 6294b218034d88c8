package io.layerscope.stats;

import java.util.Arrays;

/**
 * How much of some input channels (columns of W) Wanda's mask prunes: for each channel c, in how
 * many rows i the mask prunes W[i, c]. Used to tell how far a layer's mask cuts into systematic
 * outlier features, the channels Wanda's activation norms are meant to protect.
 *
 * <pre>{@code
 * int[] prunedRows = ChannelPruning.wandaRow(w, out, in, scalerRow, 0.5, new int[] {3, 17});
 * }</pre>
 */
public final class ChannelPruning {
    /** Values per block of rows read at a time. */
    private static final int BLOCK_VALUES = 1 << 20;
    /** Entries counted between checks of whether a row is already settled. */
    private static final int COUNT_STRIDE = 512;

    /** Rows {@code [first, first + count)} of a weight, row-major, at the start of the array returned (which may be longer). */
    @FunctionalInterface
    public interface Rows {
        float[] read(int first, int count);
    }

    private ChannelPruning() {
    }

    /** For each of {@code channels}, how many rows' Wanda masks (per row at {@code sparsity}) prune the weight in its column. */
    public static int[] wandaRow(float[] w, int out, int in, float[] scalerRow, double sparsity, int[] channels) {
        return wandaRow((first, count) -> Arrays.copyOfRange(w, first * in, (first + count) * in), out, in, scalerRow,
                sparsity, channels);
    }

    /** As {@link #wandaRow(float[], int, int, float[], double, int[])}, the weight read a block of rows at a time. */
    public static int[] wandaRow(Rows w, int out, int in, float[] scalerRow, double sparsity, int[] channels) {
        return wanda(w, out, in, scalerRow, sparsity, 0, 0, channels);
    }

    /**
     * For each of {@code channels}, how many rows' Wanda N:M masks (the {@code n} smallest of every
     * {@code m} consecutive columns) prune the weight in its column.
     */
    public static int[] wandaNOfM(Rows w, int out, int in, float[] scalerRow, int n, int m, int[] channels) {
        return wanda(w, out, in, scalerRow, 0, n, m, channels);
    }

    /**
     * Reads the weight a block of rows at a time and builds each row's mask only where it could prune
     * one of the channels.
     *
     * <p>A row whose entries below the smallest metric of the channels number at least the count the
     * mask prunes cannot prune any of them (those entries come first in any order of ties), so it is
     * settled by that count alone. Outlier features, whose large activation norms make their metrics
     * large, are rarely pruned: most rows are settled that way (unstructured masks; an N:M row is masked
     * whole).
     */
    private static int[] wanda(Rows w, int out, int in, float[] scalerRow, double sparsity, int n, int m,
                               int[] channels) {
        float[] actNorm = new float[in];
        for (int j = 0; j < in; j++) {
            actNorm[j] = (float) Math.sqrt(scalerRow[j]);
        }
        RowPruner pruner = new RowPruner(in, sparsity);
        float[] metric = new float[in];
        byte[] mask = new byte[in];
        int[] pruned = new int[channels.length];
        int blockRows = Math.max(1, BLOCK_VALUES / Math.max(1, in));
        for (int first = 0; first < out; first += blockRows) {
            int count = Math.min(blockRows, out - first);
            float[] block = w.read(first, count);
            for (int r = 0; r < count; r++) {
                int at = r * in;
                if (m == 0 && (pruner.pruneCount() == 0
                        || reaches(block, at, actNorm, smallest(block, at, actNorm, channels), pruner.pruneCount()))) {
                    continue;
                }
                for (int j = 0; j < in; j++) {
                    metric[j] = Math.abs(block[at + j]) * actNorm[j];
                }
                if (m > 0) {
                    RowPruner.nOfM(metric, n, m, mask);
                } else {
                    pruner.unstructured(metric, mask);
                }
                for (int k = 0; k < channels.length; k++) {
                    pruned[k] += mask[channels[k]];
                }
            }
        }
        return pruned;
    }

    /** The smallest metric |W[row, c]| * actNorm[c] of the channels (NaN never; +infinity if none is smaller). */
    private static float smallest(float[] w, int at, float[] actNorm, int[] channels) {
        float min = Float.POSITIVE_INFINITY;
        for (int c : channels) {
            float v = Math.abs(w[at + c]) * actNorm[c];
            if (v < min) {
                min = v;
            }
        }
        return min;
    }

    /**
     * Whether at least {@code count} of the row's metrics are below {@code t} (NaN never), counted a
     * stretch at a time, without storing them: most rows are settled here and never need their metrics.
     */
    private static boolean reaches(float[] w, int at, float[] actNorm, float t, int count) {
        int in = actNorm.length;
        int c = 0;
        for (int from = 0; from < in; from += COUNT_STRIDE) {
            int to = Math.min(in, from + COUNT_STRIDE);
            for (int j = from; j < to; j++) {
                c += Math.abs(w[at + j]) * actNorm[j] < t ? 1 : 0;
            }
            if (c >= count) {
                return true;
            }
        }
        return false;
    }
}
