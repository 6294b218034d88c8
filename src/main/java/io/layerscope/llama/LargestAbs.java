package io.layerscope.llama;

/**
 * The largest |x| of float32 values given as bit patterns ({@link Float#floatToRawIntBits}), and
 * where it first is: without the sign bit, the order of the bits is the order of the magnitudes, so
 * the per-feature maxima are integer maxima the JIT vectorizes. NaNs are left out, as a Java
 * {@code a > max} scan leaves them out.
 */
final class LargestAbs {
    static final int ABS_BITS = 0x7fffffff;
    /** The bits of +infinity: larger magnitudes are NaNs. */
    static final int INFINITY_BITS = 0x7f800000;

    private LargestAbs() {
    }

    /**
     * The row-major index of the first entry with the largest |x| among float32 bit patterns
     * [positions, features], a NaN read as 0. For magnitudes, the order of the bits is the order of
     * the floats.
     */
    static int firstIndex(int[] bits, int features) {
        int[] columnMax = new int[features];
        int[] row = new int[features];
        for (int start = 0; start < bits.length; start += features) {
            // as in OutlierMarks: a copy of the row and a branch-free maximum (x - a < 0 when
            // x < a, both non-negative), so that the JIT vectorizes the loop
            System.arraycopy(bits, start, row, 0, features);
            for (int c = 0; c < features; c++) {
                int a = absBits(row[c]);
                int x = columnMax[c];
                columnMax[c] = x ^ ((x ^ a) & ((x - a) >> 31));
            }
        }
        int max = 0;
        for (int c = 0; c < features; c++) {
            max = Math.max(max, columnMax[c]);
        }
        int first = Integer.MAX_VALUE;
        for (int c = 0; c < features; c++) {
            if (columnMax[c] == max) {
                for (int k = c; k < bits.length && k < first; k += features) {
                    if (absBits(bits[k]) == max) {
                        first = k;
                        break;
                    }
                }
            }
        }
        return first;
    }

    /** The bits of |x|, or 0 for a NaN. */
    static int absBits(int bits) {
        int abs = bits & ABS_BITS;
        return abs & ~((INFINITY_BITS - abs) >> 31);
    }
}
