package io.layerscope.stats;

import java.util.Arrays;

/**
 * Where a row's per-row mask cuts: the {@code pruneCount} smallest entries of a row, ties broken
 * by the lower column (a stable ascending sort), given the row as the raw bits of its scores. The
 * answer is one packed key (score bits, column) of the last pruned entry, so a caller that only
 * counts can test each entry against it as it reaches it ({@link #pruned}) instead of writing a
 * mask out and reading it back: {@link RowPruner#unstructured}'s masks, bit for bit.
 *
 * <p>The bits must be those of non-negative, non-NaN floats, -0 made +0 (add {@code 0f}); they
 * then order like the scores. The cut is found as {@link RowPruner} finds it: one scan counts
 * the entries per exponent and top four mantissa bits, the count locates the cut's bucket, a
 * second scan picks the few entries of that bucket, and a selection among them gives the cut.
 *
 * <pre>{@code
 * RowSelection cut = new RowSelection(4, 2);
 * int[] bits = {bits(0.3f), bits(0.1f), bits(0.1f), bits(0.9f)};
 * long last = cut.lastPrunedKey(bits);            // the 0.1 at column 2
 * int p = RowSelection.pruned(bits[1], 1, last);  // 1: column 1 is pruned
 * }</pre>
 *
 * <p>An instance keeps scratch arrays: use one per thread.
 */
final class RowSelection {
    private static final int PREFIX_SHIFT = 19;
    private static final int INFINITY_BITS = 0x7f800000;

    private final int columns;
    private final int pruneCount;
    /** Zero between calls: each call clears the buckets it used. */
    private final int[] prefixCounts = new int[(INFINITY_BITS >>> PREFIX_SHIFT) + 1];
    private final long[] candidates;

    /**
     * @param columns    row length
     * @param pruneCount how many entries of a row are pruned, 0 to columns
     */
    RowSelection(int columns, int pruneCount) {
        if (columns <= 0 || pruneCount < 0 || pruneCount > columns) {
            throw new IllegalArgumentException("need columns > 0 and 0 <= pruneCount <= columns, got " + columns
                    + ", " + pruneCount);
        }
        this.columns = columns;
        this.pruneCount = pruneCount;
        this.candidates = new long[columns];
    }

    int pruneCount() {
        return pruneCount;
    }

    /**
     * The key ({@code bits << 32 | column}) of the last entry the row's mask prunes among
     * {@code bits[0..columns)}, or -1 when it prunes none (then {@link #pruned} is 0 for every entry).
     */
    long lastPrunedKey(int[] bits) {
        int[] counts = prefixCounts;
        int lowestMinusOne = Integer.MAX_VALUE;
        int highest = 0;
        for (int j = 0; j < columns; j++) {
            int bucket = bucketOf(bits[j]);
            counts[bucket]++;
            lowestMinusOne = Math.min(lowestMinusOne, lowestMinusOne(bucket));
            highest = Math.max(highest, bucket);
        }
        return lastPrunedKeyCounted(bits, lowestMinusOne, highest);
    }

    /** The counters of {@link #lastPrunedKeyCounted}: a caller that makes the row adds 1 at {@link #bucketOf} of each entry. */
    int[] prefixCounts() {
        return prefixCounts;
    }

    /** The counter an entry of score bits {@code bits} adds to: its exponent and top four mantissa bits. */
    static int bucketOf(int bits) {
        return bits >>> PREFIX_SHIFT;
    }

    /**
     * What a caller keeps the minimum of over the row's buckets: bucket - 1, but the largest int for
     * bucket 0 (zeros and the tiniest values), which the search for the cut skips separately.
     */
    static int lowestMinusOne(int bucket) {
        return bucket - 1 & Integer.MAX_VALUE;
    }

    /**
     * {@link #lastPrunedKey} of a row whose entries the caller has already counted into
     * {@link #prefixCounts}, with the minimum of {@link #lowestMinusOne} and the maximum of
     * {@link #bucketOf} over them; clears the counters for the next row.
     */
    long lastPrunedKeyCounted(int[] bits, int lowestMinusOne, int highest) {
        int[] counts = prefixCounts;
        // Zeros (bucket 0) aside, scores of a row span a few powers of two: the scan for the cut
        // starts at the lowest bucket used, and only the buckets used are cleared afterwards.
        int lowest = lowestMinusOne == Integer.MAX_VALUE ? counts.length : lowestMinusOne + 1;
        int rank = pruneCount - 1;
        int prefix = 0;
        int before = counts[0];
        if (pruneCount > 0 && before <= rank) {
            prefix = lowest;
            while (before + counts[prefix] <= rank) {
                before += counts[prefix++];
            }
        } else {
            before = 0;
        }
        clear(counts, lowestMinusOne, highest);
        if (pruneCount == 0) {
            return -1;
        }
        int found = 0;
        for (int j = 0; j < columns; j++) {
            int b = bits[j];
            if (b >>> PREFIX_SHIFT == prefix) {
                candidates[found++] = (long) b << 32 | j;
            }
        }
        return LongSelection.select(candidates, found, rank - before);
    }

    /**
     * Zeroes the counters a row used, given the minimum of {@link #lowestMinusOne} and the maximum
     * of {@link #bucketOf} over its entries: bucket 0 and those from the lowest to the highest.
     */
    static void clear(int[] counts, int lowestMinusOne, int highest) {
        counts[0] = 0;
        if (lowestMinusOne != Integer.MAX_VALUE) {
            Arrays.fill(counts, lowestMinusOne + 1, highest + 1, 0);
        }
    }

    /** 1 if the entry of score bits {@code bits} at {@code column} is pruned under the row's {@code lastPrunedKey}, else 0. */
    static int pruned(int bits, int column, long lastPrunedKey) {
        return (int) ((((long) bits << 32 | column) - lastPrunedKey - 1) >>> 63);   // 1 where key <= last
    }
}
