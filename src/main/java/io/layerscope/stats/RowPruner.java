package io.layerscope.stats;

import java.util.Arrays;

/**
 * One row's pruning mask, as Wanda computes it: the scores of one output row (the Wanda metric or
 * |W| of its input columns) in, which entries are pruned out. Ties follow a stable ascending sort:
 * among equal scores the lower column is pruned first. Masks are bytes, 1 for pruned and 0 for kept,
 * so that callers can compare and count them by arithmetic, without a branch per entry.
 *
 * <p>Scores must be non-negative and not NaN (infinity is allowed): their float bits then order like the scores, and
 * packed above the column index into a long they order exactly like (score, column), which makes
 * a fast selection stable. The cut is found by counting the scores by exponent and top four
 * mantissa bits (buckets of a sixteenth of a power of two), then selecting among the few scores in
 * the cut's bucket: about 3 microseconds for a row of 512.
 *
 * <pre>{@code
 * RowPruner pruner = new RowPruner(4, 0.5);
 * byte[] pruned = new byte[4];
 * pruner.unstructured(new float[] {0.3f, 0.1f, 0.1f, 0.9f}, pruned);   // {0, 1, 1, 0}
 * RowPruner.nOfM(new float[] {2f, 2f, 2f, 2f}, 2, 4, pruned);          // {1, 1, 0, 0}
 * }</pre>
 *
 * <p>An instance keeps scratch arrays: use one per thread.
 */
public final class RowPruner {
    private static final int INFINITY_BITS = 0x7f800000;

    private final int columns;
    private final int pruneCount;
    private final RowSelection selection;
    /** The row's score bits, -0 as +0. */
    private final int[] rowBits;

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
        this.selection = new RowSelection(columns, pruneCount);
        this.rowBits = new int[columns];
    }

    /** How many entries {@link #unstructured} prunes per row. */
    public int pruneCount() {
        return pruneCount;
    }

    /** Sets {@code pruned[j]} to 1 for the {@code pruneCount()} smallest scores of the row (stable), else 0. */
    public void unstructured(float[] scores, byte[] pruned) {
        checkLength(scores, pruned);
        if (pruneCount == 0) {
            Arrays.fill(pruned, 0, columns, (byte) 0);
            return;
        }
        for (int j = 0; j < columns; j++) {
            int bits = bits(scores[j]);
            if (bits < 0 || bits > INFINITY_BITS) {
                throw new IllegalArgumentException("score " + scores[j] + " at column " + j + " is negative or NaN");
            }
            rowBits[j] = bits;
        }
        long last = selection.lastPrunedKey(rowBits);
        for (int j = 0; j < columns; j++) {
            pruned[j] = (byte) RowSelection.pruned(rowBits[j], j, last);
        }
    }

    /**
     * N:M semi-structured: in each group of {@code m} consecutive columns starting at column 0,
     * marks the {@code n} smallest scores (stable). A trailing group shorter than {@code m} (when
     * the row length is not a multiple of m) is left unpruned: Wanda's loop would prune
     * {@code n} of a short group or fail on it, and a partial group is no N:M pattern hardware
     * can use. Scores as for {@link #unstructured} (non-negative, not NaN), which checks them; this
     * does not.
     */
    public static void nOfM(float[] scores, int n, int m, byte[] pruned) {
        if (n < 0 || n > m || scores.length > pruned.length) {
            throw new IllegalArgumentException("need 0 <= n <= m and a mask as long as the scores, got n="
                    + n + " m=" + m + " scores=" + scores.length + " mask=" + pruned.length);
        }
        int whole = scores.length - scores.length % m;
        if (n == 2 && m == 4) {
            twoOfFour(scores, whole, pruned);
        } else {
            int[] group = new int[m];
            for (int g = 0; g < whole; g += m) {
                for (int t = 0; t < m; t++) {
                    group[t] = bits(scores[g + t]);
                }
                for (int t = 0; t < m; t++) {
                    pruned[g + t] = (byte) (rank(group, t) < n ? 1 : 0);
                }
            }
        }
        Arrays.fill(pruned, whole, scores.length, (byte) 0);
    }

    /** How many of the group order before entry t: smaller, or equal at a lower column. */
    private static int rank(int[] group, int t) {
        int smaller = 0;
        for (int l = 0; l < group.length; l++) {
            smaller += l < t ? (group[l] <= group[t] ? 1 : 0) : (group[l] < group[t] ? 1 : 0);
        }
        return smaller;
    }

    /** 2:4, the pattern sparse tensor cores use, with each entry's rank written out: no loops, no branches. */
    private static void twoOfFour(float[] scores, int whole, byte[] pruned) {
        for (int g = 0; g < whole; g += 4) {
            int a = bits(scores[g]);
            int b = bits(scores[g + 1]);
            int c = bits(scores[g + 2]);
            int d = bits(scores[g + 3]);
            int rankA = below(b, a) + below(c, a) + below(d, a);
            int rankB = atMost(a, b) + below(c, b) + below(d, b);
            int rankC = atMost(a, c) + atMost(b, c) + below(d, c);
            int rankD = atMost(a, d) + atMost(b, d) + atMost(c, d);
            pruned[g] = (byte) below(rankA, 2);
            pruned[g + 1] = (byte) below(rankB, 2);
            pruned[g + 2] = (byte) below(rankC, 2);
            pruned[g + 3] = (byte) below(rankD, 2);
        }
    }

    /** 1 if x < y, else 0, for x and y of at most 31 bits (non-negative score bits, ranks). */
    private static int below(int x, int y) {
        return (x - y) >>> 31;
    }

    /** 1 if x <= y, else 0, as {@link #below}. */
    private static int atMost(int x, int y) {
        return (x - y - 1) >>> 31;
    }

    private void checkLength(float[] scores, byte[] pruned) {
        if (scores.length < columns || pruned.length < columns) {
            throw new IllegalArgumentException("row of " + columns + " columns, got scores of "
                    + scores.length + " and a mask of " + pruned.length);
        }
    }

    /** + 0f turns -0 into +0, whose bits order with the other non-negative floats. */
    private static int bits(float score) {
        return Float.floatToRawIntBits(score + 0f);
    }
}
