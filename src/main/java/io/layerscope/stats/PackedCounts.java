package io.layerscope.stats;

import java.io.Serializable;
import java.util.Arrays;

/**
 * A counter array of mostly zeros as it travels between executors and the driver: a histogram of
 * 32768 bins where a block's |h| fills a few thousand, or per-channel outlier counts where a real
 * model marks a few channels. Kept as its non-zero entries and their places when those are fewer,
 * else as the span from its first non-zero entry to its last. Exact either way.
 */
record PackedCounts(int length, boolean sparse, int offset, int[] at, long[] values) implements Serializable {
    private static final long serialVersionUID = 1L;

    static PackedCounts of(long[] counts) {
        int first = 0;
        while (first < counts.length && counts[first] == 0) {
            first++;
        }
        int last = counts.length - 1;
        while (last >= first && counts[last] == 0) {
            last--;
        }
        int nonZero = 0;
        for (int i = first; i <= last; i++) {
            nonZero += counts[i] != 0 ? 1 : 0;
        }
        // an entry costs 12 bytes sparse (place and count), a slot of the span 8
        if (nonZero * 12L < (last - first + 1) * 8L) {
            int[] at = new int[nonZero];
            long[] values = new long[nonZero];
            for (int i = first, n = 0; i <= last; i++) {
                if (counts[i] != 0) {
                    at[n] = i;
                    values[n++] = counts[i];
                }
            }
            return new PackedCounts(counts.length, true, 0, at, values);
        }
        return new PackedCounts(counts.length, false, first, null, Arrays.copyOfRange(counts, first, last + 1));
    }

    long[] unpack() {
        long[] counts = new long[length];
        if (sparse) {
            for (int i = 0; i < at.length; i++) {
                counts[at[i]] = values[i];
            }
        } else {
            System.arraycopy(values, 0, counts, offset, values.length);
        }
        return counts;
    }
}
