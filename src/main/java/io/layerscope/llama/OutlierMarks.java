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
 * after the vectorized test, about a nanosecond per entry more on this project's machine
 * (docs/PERFORMANCE.md), under 1% of the forward it rides on.
 */
final class OutlierMarks {
    private static final int THRESHOLD_BITS = Float.floatToRawIntBits(DepthSums.OUTLIER_ABS);
    /** Entries tested at a time: a multiple of 32, so each run starts on a word. */
    private static final int RUN = 2048;
    private final int features;
    private final int size;
    /** Bit k % 32 of word k / 32: entry k (row-major [positions, features]) marked. */
    private final int[] words;
    private final int[] flags;

    OutlierMarks(int positions, int features) {
        this.features = features;
        this.size = Math.multiplyExact(positions, features);
        this.words = new int[(size + 31) >>> 5];
        this.flags = new int[Math.min(RUN, size)];
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
     * block, else 0.
     */
    long[] mark(int[] bits) {
        if (bits.length != size) {
            throw new IllegalArgumentException(bits.length + " entries for " + size);
        }
        for (int start = 0; start < size; start += RUN) {
            int len = Math.min(RUN, size - start);
            for (int k = 0; k < len; k++) {
                flags[k] = flag(bits[start + k]);
            }
            int first = start >>> 5;
            for (int w = 0; w << 5 < len; w++) {
                int base = w << 5;
                int end = Math.min(32, len - base);
                int word = 0;
                for (int j = 0; j < end; j++) {
                    word |= (flags[base + j] & 1) << j;
                }
                words[first + w] |= word;
            }
        }
        int[] reached = new int[features];
        int[] row = new int[features];
        for (int start = 0; start < bits.length; start += features) {
            // a copy of the row, so both arrays are read at the same index: with an offset between
            // them the JIT cannot rule out overlap and does not vectorize
            System.arraycopy(bits, start, row, 0, features);
            for (int c = 0; c < features; c++) {
                reached[c] |= flag(row[c]);
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

    /** Forgets every mark, for the next batch. */
    void clear() {
        Arrays.fill(words, 0);
    }
}
