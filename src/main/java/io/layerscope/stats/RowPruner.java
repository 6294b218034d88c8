package io.layerscope.stats;

import java.util.Arrays;

/**
 * One row's pruning mask, as Wanda computes it: the scores of one output row (the Wanda metric or
 * |W| of its input columns) in, which entries are pruned out. Ties follow a stable ascending sort:
 * among equal scores the lower column is pruned first.
 *
 * <p>Scores must be non-negative and not NaN (infinity is allowed): their float bits then order like the scores, and
 * packed above the column index into a long they order exactly like (score, column), which makes
 * a fast selection stable. The cut is found by counting the top 12 bits of the scores, then
 * selecting among the few scores that share the cut's 12 bits: a few microseconds per row.
 *
 * <pre>{@code
 * RowPruner pruner = new RowPruner(4, 0.5);
 * boolean[] pruned = new boolean[4];
 * pruner.unstructured(new float[] {0.3f, 0.1f, 0.1f, 0.9f}, pruned);   // {false, true, true, false}
 * RowPruner.nOfM(new float[] {2f, 2f, 2f, 2f}, 2, 4, pruned);          // {true, true, false, false}
 * }</pre>
 *
 * <p>An instance keeps scratch arrays: use one per thread.
 */
public final class RowPruner {
    private static final int PREFIX_SHIFT = 19;
    private static final int INFINITY_BITS = 0x7f800000;

    private final int columns;
    private final int pruneCount;
    private final int[] prefixCounts = new int[(INFINITY_BITS >>> PREFIX_SHIFT) + 1];
    private final long[] candidates;

    /**
     * @param columns  row length (in_features)
     * @param sparsity share to prune; each row prunes {@code floor(columns * sparsity)} entries,
     *                 as Wanda's {@code int(W_metric.shape[1] * sparsity_ratio)}
     */
    public RowPruner(int columns, double sparsity) {
        if (columns <= 0 || !(sparsity >= 0 && sparsity <= 1)) {
            throw new IllegalArgumentException("need columns > 0 and sparsity in [0, 1], got " + columns + ", " + sparsity);
        }
        this.columns = columns;
        this.pruneCount = (int) (columns * sparsity);
        this.candidates = new long[columns];
    }

    /** How many entries {@link #unstructured} prunes per row. */
    public int pruneCount() {
        return pruneCount;
    }

    /** Marks in {@code pruned} the {@code pruneCount()} smallest scores of the row (stable). */
    public void unstructured(float[] scores, boolean[] pruned) {
        checkLength(scores, pruned);
        if (pruneCount == 0) {
            Arrays.fill(pruned, 0, columns, false);
            return;
        }
        Arrays.fill(prefixCounts, 0);
        for (int j = 0; j < columns; j++) {
            int bits = bits(scores[j]);
            if (bits < 0 || bits > INFINITY_BITS) {
                throw new IllegalArgumentException("score " + scores[j] + " at column " + j
                        + " is negative or NaN");
            }
            prefixCounts[bits >>> PREFIX_SHIFT]++;
        }
        int rank = pruneCount - 1;
        int prefix = 0;
        int before = 0;
        while (before + prefixCounts[prefix] <= rank) {
            before += prefixCounts[prefix++];
        }
        int found = 0;
        for (int j = 0; j < columns; j++) {
            int bits = bits(scores[j]);
            if (bits >>> PREFIX_SHIFT == prefix) {
                candidates[found++] = (long) bits << 32 | j;
            }
        }
        long last = LongSelection.select(candidates, found, rank - before);
        for (int j = 0; j < columns; j++) {
            pruned[j] = key(scores[j], j) <= last;
        }
    }

    /**
     * N:M semi-structured: in each group of {@code m} consecutive columns starting at column 0,
     * marks the {@code n} smallest scores (stable). A trailing group shorter than {@code m} (when
     * the row length is not a multiple of m) is left unpruned: Wanda's loop would prune
     * {@code n} of a short group or fail on it, and a partial group is no N:M pattern hardware
     * can use.
     */
    public static void nOfM(float[] scores, int n, int m, boolean[] pruned) {
        if (n < 0 || n > m || scores.length > pruned.length) {
            throw new IllegalArgumentException("need 0 <= n <= m and a mask as long as the scores, got n="
                    + n + " m=" + m + " scores=" + scores.length + " mask=" + pruned.length);
        }
        int whole = scores.length - scores.length % m;
        long[] group = new long[m];
        for (int g = 0; g < whole; g += m) {
            for (int t = 0; t < m; t++) {
                group[t] = key(scores[g + t], g + t);
            }
            for (int t = 0; t < m; t++) {
                int smaller = 0;
                for (int l = 0; l < m; l++) {
                    smaller += group[l] < group[t] ? 1 : 0;
                }
                pruned[g + t] = smaller < n;
            }
        }
        Arrays.fill(pruned, whole, scores.length, false);
    }

    private void checkLength(float[] scores, boolean[] pruned) {
        if (scores.length < columns || pruned.length < columns) {
            throw new IllegalArgumentException("row of " + columns + " columns, got scores of "
                    + scores.length + " and a mask of " + pruned.length);
        }
    }

    /** (score, column) packed so that long order is score order, then column order. */
    private static long key(float score, int column) {
        return (long) bits(score) << 32 | column;
    }

    /** + 0f turns -0 into +0, whose bits order with the other non-negative floats. */
    private static int bits(float score) {
        return Float.floatToRawIntBits(score + 0f);
    }
}
