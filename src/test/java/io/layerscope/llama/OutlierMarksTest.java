package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** |x| >= 6 on float bit patterns, the per-block reach and the positions over blocks, against counts worked out by hand. */
class OutlierMarksTest {
    static int[] bits(float... v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    @Test
    void theFlagIsAbsAtLeastSixWithInfinityInAndNanOut() {
        float[] in = {6f, -6f, Math.nextUp(6f), 1e30f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        float[] out = {Math.nextDown(6f), -Math.nextDown(6f), 0f, -0f, 1f, Float.NaN, -Float.NaN, Float.MIN_VALUE};
        for (float v : in) {
            assertEquals(-1, OutlierMarks.flag(Float.floatToRawIntBits(v)), "flag of " + v);
        }
        for (float v : out) {
            assertEquals(0, OutlierMarks.flag(Float.floatToRawIntBits(v)), "flag of " + v);
        }
        assertEquals(0, OutlierMarks.flag(0x7fc00001), "a NaN with another payload");
    }

    @Test
    void eachBlockReportsItsFeaturesAndThePositionsCountOncePerFeature() {
        // 3 positions x 4 features
        OutlierMarks p = new OutlierMarks(3, 4);
        long[] block0 = p.mark(bits(
                7, 0, 0, -6,
                0, 1, 0, 0,
                0, 0, 0, 9));
        assertArrayEquals(new long[] {1, 0, 0, 1}, block0);
        long[] block1 = p.mark(bits(
                8, 0, 0, 0,           // position 0, feature 0 again: still one position
                -6.5f, 5.99f, 0, 0,
                0, Float.NaN, 0, 0));
        assertArrayEquals(new long[] {1, 0, 0, 0}, block1);
        assertArrayEquals(new long[] {2, 0, 0, 2}, p.counts());
        p.clear();
        assertArrayEquals(new long[4], p.counts());
    }

    /**
     * Entries past one run of the test (2048) and a last word only partly used (70 x 33 entries),
     * three blocks of random values with some |x| >= 6: per block and in the counts, what plain loops
     * over a boolean per entry give.
     */
    @Test
    void runsAndAPartWordGiveWhatABooleanPerEntryGives() {
        // rows straddling words (33), a word to a row (32), rows of several words (2048), a part word at the end
        for (int[] shape : new int[][] {{70, 33}, {9, 32}, {5, 2048}, {3, 7}}) {
            marksOfThreeBlocks(shape[0], shape[1]);
        }
    }

    private static void marksOfThreeBlocks(int positions, int features) {
        java.util.Random random = new java.util.Random(7);
        boolean[] any = new boolean[positions * features];
        OutlierMarks marks = new OutlierMarks(positions, features);
        for (int block = 0; block < 3; block++) {
            float[] x = new float[positions * features];
            long[] reachedHere = new long[features];
            long[] firstHere = new long[features];
            for (int k = 0; k < x.length; k++) {
                x[k] = (float) (random.nextGaussian() * 3);
                if (Math.abs(x[k]) >= 6) {
                    firstHere[k % features] += any[k] ? 0 : 1;
                    any[k] = true;
                    reachedHere[k % features] = 1;
                }
            }
            long[] first = new long[features];
            assertArrayEquals(reachedHere, marks.mark(bits(x), first), positions + " x " + features + ", block " + block);
            assertArrayEquals(firstHere, first, positions + " x " + features + ", first marked in block " + block);
        }
        long[] expected = new long[features];
        for (int k = 0; k < any.length; k++) {
            expected[k % features] += any[k] ? 1 : 0;
        }
        assertArrayEquals(expected, marks.counts(), positions + " x " + features);
        assertTrue(java.util.Arrays.stream(expected).sum() > positions * features / 100, "enough marks to mean something");
        marks.clear();
        assertArrayEquals(new long[features], marks.counts());
    }

    @Test
    void theLargestAbsIsTheFirstInRowMajorOrderWithNansLeftOut() {
        // 3 positions x 3 features; |-9| ties with 9 later in the row-major order
        int[] x = bits(
                1, Float.NaN, 2,
                3, 4, -9,
                9, 0, Float.NaN);
        assertEquals(5, LargestAbs.firstIndex(x, 3));
        assertEquals(9f, Float.intBitsToFloat(LargestAbs.absBits(x[5])));
        // ties in one column: the earlier row
        assertEquals(1, LargestAbs.firstIndex(bits(0, 5, 5, 0, 0, -5), 2));
        assertEquals(0, LargestAbs.firstIndex(bits(-0f, 0f), 1));
        assertEquals(Float.floatToRawIntBits(0f), LargestAbs.absBits(Float.floatToRawIntBits(-0f)));
        assertEquals(0, LargestAbs.absBits(Float.floatToRawIntBits(Float.NaN)));
    }
}
