package io.layerscope.stats;

/**
 * One row's pruning mask, as Wanda computes it: the scores of one output row (the Wanda metric or
 * |W| of its input columns) in, which entries are pruned out. Ties follow a stable ascending sort:
 * among equal scores the lower column is pruned first.
 *
 * <p>Scores must be non-negative and not NaN: their float bits, packed above the column index
 * into a long, then order exactly like (score, column), which makes a fast selection stable.
 *
 * <pre>{@code
 * RowPruner pruner = new RowPruner(4, 0.5);
 * boolean[] pruned = new boolean[4];
 * pruner.unstructured(new float[] {0.3f, 0.1f, 0.1f, 0.9f}, pruned);   // {false, true, true, false}
 * RowPruner.nOfM(new float[] {2f, 2f, 2f, 2f}, 2, 4, pruned);          // {true, true, false, false}
 * }</pre>
 *
 * <p>An instance keeps a scratch array: use one per thread.
 */
public final class RowPruner {
    private final int columns;
    private final int pruneCount;
    private final long[] keys;

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
        this.keys = new long[columns];
    }

    /** How many entries {@link #unstructured} prunes per row. */
    public int pruneCount() {
        return pruneCount;
    }

    /** Marks in {@code pruned} the {@code pruneCount()} smallest scores of the row (stable). */
    public void unstructured(float[] scores, boolean[] pruned) {
        checkLength(scores, pruned);
        if (pruneCount == 0) {
            java.util.Arrays.fill(pruned, 0, columns, false);
            return;
        }
        for (int j = 0; j < columns; j++) {
            keys[j] = key(scores[j], j);
        }
        long last = LongSelection.select(keys, columns, pruneCount - 1);
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
        for (int g = 0; g < whole; g += m) {
            for (int j = g; j < g + m; j++) {
                long own = key(scores[j], j);
                int smaller = 0;
                for (int l = g; l < g + m; l++) {
                    if (key(scores[l], l) < own) {
                        smaller++;
                    }
                }
                pruned[j] = smaller < n;
            }
        }
        java.util.Arrays.fill(pruned, whole, scores.length, false);
    }

    private void checkLength(float[] scores, boolean[] pruned) {
        if (scores.length < columns || pruned.length < columns) {
            throw new IllegalArgumentException("row of " + columns + " columns, got scores of "
                    + scores.length + " and a mask of " + pruned.length);
        }
    }

    /** (score, column) packed so that long order is score order, then column order. */
    private static long key(float score, int column) {
        // + 0f turns -0 into +0, whose bits sort with the other non-negative floats
        return (long) Float.floatToRawIntBits(score + 0f) << 32 | column;
    }
}
