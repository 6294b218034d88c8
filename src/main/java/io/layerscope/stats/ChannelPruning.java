package io.layerscope.stats;

/**
 * How much of some input channels (columns of W) Wanda's N:M mask prunes: for each channel c, in how
 * many rows i the mask prunes W[i, c]. Used to tell how far a layer's mask cuts into systematic
 * outlier features, the channels Wanda's activation norms are meant to protect. (For per-row masks
 * the statistics count the columns asked for in their own passes: {@link LayerByProducts#wandaPrunedRows(int[])}.)
 *
 * <pre>{@code
 * int[] prunedRows = ChannelPruning.wandaNOfM(rows, out, in, scalerRow, 2, 4, new int[] {3, 17});
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

    /**
     * For each of {@code channels}, how many rows' Wanda N:M masks (the {@code n} smallest of every
     * {@code m} consecutive columns) prune the weight in its column; the weight read a block of rows
     * at a time.
     */
    public static int[] wandaNOfM(Rows w, int out, int in, float[] scalerRow, int n, int m, int[] channels) {
        float[] actNorm = ActivationNorms.of(scalerRow);
        float[] metric = new float[in];
        byte[] mask = new byte[in];
        int[] pruned = new int[channels.length];
        int blockRows = Math.max(1, BLOCK_VALUES / Math.max(1, in));
        for (int first = 0; first < out; first += blockRows) {
            int count = Math.min(blockRows, out - first);
            float[] block = w.read(first, count);
            for (int r = 0; r < count; r++) {
                int at = r * in;
                for (int j = 0; j < in; j++) {
                    metric[j] = Math.abs(block[at + j]) * actNorm[j];
                }
                RowPruner.nOfM(metric, n, m, mask);
                for (int k = 0; k < channels.length; k++) {
                    pruned[k] += mask[channels[k]];
                }
            }
        }
        return pruned;
    }
}
