package io.layerscope.llama;

import io.layerscope.stats.DepthSums;
import java.util.Arrays;

/**
 * For one tap kind over one batch of sequences: which of its [positions, features] entries reached
 * |x| >= 6 in at least one block, counted per feature at the end. Reads float32 bit patterns:
 * |x| >= 6 is then an integer comparison of the bits without the sign, so each loop is branch-free
 * and the JIT vectorizes it (a branch per entry, or a loop it does not vectorize, costs several
 * times more).
 */
final class OutlierMarks {
    private static final int THRESHOLD_BITS = Float.floatToRawIntBits(DepthSums.OUTLIER_ABS);
    private final int features;
    /** -1 where marked, else 0, row-major [positions, features]. */
    private final int[] marks;

    OutlierMarks(int positions, int features) {
        this.features = features;
        this.marks = new int[Math.multiplyExact(positions, features)];
    }

    int features() {
        return features;
    }

    int size() {
        return marks.length;
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
        if (bits.length != marks.length) {
            throw new IllegalArgumentException(bits.length + " entries for " + marks.length);
        }
        for (int k = 0; k < marks.length; k++) {
            marks[k] |= flag(bits[k]);
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
        int[] n = new int[features];
        int[] row = new int[features];
        for (int start = 0; start < marks.length; start += features) {
            System.arraycopy(marks, start, row, 0, features);
            for (int c = 0; c < features; c++) {
                n[c] -= row[c];
            }
        }
        return Arrays.stream(n).asLongStream().toArray();
    }

    /** Forgets every mark, for the next batch. */
    void clear() {
        Arrays.fill(marks, 0);
    }
}
