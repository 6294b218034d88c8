package io.layerscope.llama;

import io.layerscope.stats.DepthSums;
import java.util.Arrays;

/**
 * For one tap kind over one batch of sequences: which of its [positions, features] entries reached
 * |x| >= 6 in at least one block, counted per feature at the end. Reads float32 bit patterns:
 * |x| >= 6 is then an integer comparison of the bits without the sign, so each loop is branch-free
 * and the JIT vectorizes it (a branch per entry, or a loop it does not vectorize, costs several
 * times more).
 *
 * <p>The marks are kept as bits, 32 entries to an int. A batch keeps them across every block, and
 * the batches of a group go through the blocks together, so an int per entry came to 112 MiB of heap
 * per 2048-token window at Llama-3.2-1B's shape, eight windows to a group. Packing is a scalar loop
 * after the vectorized test of each row (docs/PERFORMANCE.md).
 */
final class OutlierMarks {
    private static final int THRESHOLD_BITS = Float.floatToRawIntBits(DepthSums.OUTLIER_ABS);
    private final int features;
    private final int size;
    /** Bit k % 32 of word k / 32: entry k (row-major [positions, features]) marked. */
    private final int[] words;
    private final int[] flags;

    OutlierMarks(int positions, int features) {
        this.features = features;
        this.size = Math.multiplyExact(positions, features);
        this.words = new int[(size + 31) >>> 5];
        // the fewest whole rows that make a multiple of 32 entries: one row at a real model's widths
        int rows = 32 / gcd(features, 32);
        this.flags = new int[Math.min(rows * features, size)];
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    int features() {
        return features;
    }

    int size() {
        return size;
    }

    /** -1 when the float with these bits has |x| >= 6 (infinity has, a NaN has not), else 0. */
    static int flag(int bits) {
        int abs = bits & LargestAbs.ABS_BITS;
        return ((THRESHOLD_BITS - 1 - abs) & ~(LargestAbs.INFINITY_BITS - abs)) >> 31;
    }

    /**
     * Marks the entries of one block's tap with |x| >= 6 ({@code bits}: float32 bit patterns,
     * row-major [positions, features]); returns, per feature, 1 if any position reached it in this
     * block, else 0. One pass over the rows: each row's flags feed both the per-feature result and
     * the packed marks while they are in the cache (a tap is megabytes; reading it twice cost twice).
     */
    long[] mark(int[] bits) {
        return mark(bits, null);
    }

    /**
     * {@link #mark(int[])}, adding per feature to {@code firstMarked} (unless null) the entries marked
     * now that no earlier block had marked: over the blocks in order, the positions whose first block
     * with |x| >= 6 is this one, so that the blocks up to any b give the union over blocks 0..b.
     */
    long[] mark(int[] bits, long[] firstMarked) {
        if (bits.length != size) {
            throw new IllegalArgumentException(bits.length + " entries for " + size);
        }
        int[] reached = new int[features];
        int[] row = new int[features];
        int chunk = flags.length;   // whole rows, a multiple of 32 entries: each chunk starts on a word
        for (int start = 0; start < size; start += chunk) {
            int len = Math.min(chunk, size - start);
            for (int r = 0; r < len; r += features) {
                // a copy of the row, so the arrays are read at the same index: with an offset between
                // them the JIT cannot rule out overlap and does not vectorize
                System.arraycopy(bits, start + r, row, 0, features);
                for (int c = 0; c < features; c++) {
                    int f = flag(row[c]);
                    flags[r + c] = f;
                    reached[c] |= f;
                }
            }
            int first = start >>> 5;
            for (int w = 0; w << 5 < len; w++) {
                int base = w << 5;
                int end = Math.min(32, len - base);
                int word = 0;
                for (int j = 0; j < end; j++) {
                    word |= (flags[base + j] & 1) << j;
                }
                int fresh = word & ~words[first + w];
                words[first + w] |= word;
                // outliers are rare: the per-entry loop runs only over a word's newly set bits
                if (firstMarked != null) {
                    for (; fresh != 0; fresh &= fresh - 1) {
                        firstMarked[(int) ((((long) (first + w)) << 5 | Integer.numberOfTrailingZeros(fresh)) % features)]++;
                    }
                }
            }
        }
        long[] out = new long[features];
        for (int c = 0; c < features; c++) {
            out[c] = -reached[c];
        }
        return out;
    }

    /** Per feature, the positions marked. */
    long[] counts() {
        long[] n = new long[features];
        for (int w = 0; w < words.length; w++) {
            for (int word = words[w]; word != 0; word &= word - 1) {
                n[(int) ((((long) w << 5) + Integer.numberOfTrailingZeros(word)) % features)]++;
            }
        }
        return n;
    }

    /** The marks: bit k % 32 of word k / 32 is entry k (row-major); the array itself, not a copy. */
    int[] words() {
        return words;
    }

    /** Forgets every mark, for the next batch. */
    void clear() {
        Arrays.fill(words, 0);
    }
}
