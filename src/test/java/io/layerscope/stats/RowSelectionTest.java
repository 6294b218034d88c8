package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RowSelectionTest {

    @Test
    void theCutOfASmallRowIsItsKthSmallestWithTheLowerColumnFirst() {
        // |{0.5, -0.2, 0.5, 0.2, -0f, 0.2}|: sorted (value, column): 0@4, 0.2@1, 0.2@3, 0.2@5, 0.5@0, 0.5@2
        int[] bits = bitsOfAbs(new float[] {0.5f, -0.2f, 0.5f, 0.2f, -0f, 0.2f});
        assertEquals((long) Float.floatToRawIntBits(0.2f) << 32 | 3, new RowSelection(6, 3).lastPrunedKey(bits));
        assertArrayEquals(new int[] {0, 1, 0, 1, 1, 0}, mask(bits, new RowSelection(6, 3).lastPrunedKey(bits)));
        assertArrayEquals(new int[] {0, 0, 0, 0, 1, 0}, mask(bits, new RowSelection(6, 1).lastPrunedKey(bits)));
        assertArrayEquals(new int[] {1, 1, 0, 1, 1, 1}, mask(bits, new RowSelection(6, 5).lastPrunedKey(bits)));
        assertEquals(-1, new RowSelection(6, 0).lastPrunedKey(bits));
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0}, mask(bits, -1));
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1}, mask(bits, new RowSelection(6, 6).lastPrunedKey(bits)));
    }

    @Test
    void allZerosPruneTheLowestColumns() {
        int[] bits = bitsOfAbs(new float[] {0f, -0f, 0f, -0f, 0f});
        assertArrayEquals(new int[] {1, 1, 0, 0, 0}, mask(bits, new RowSelection(5, 2).lastPrunedKey(bits)));
    }

    /**
     * Every row length from 1 to 70 and every k from 0 to the length, on rows with ties, zeros,
     * negative values and -0.0 (made |x| as the statistics do), values over twenty powers of ten and
     * infinities, against a stable sort of the row; one instance per length, reused across rows.
     */
    @Test
    void matchesAStableSortForEveryLengthAndEveryK() {
        SplittableRandom random = new SplittableRandom(20);
        for (int columns = 1; columns <= 70; columns++) {
            RowSelection[] cuts = new RowSelection[columns + 1];
            for (int k = 0; k <= columns; k++) {
                cuts[k] = new RowSelection(columns, k);
            }
            for (int kind = 0; kind < 4; kind++) {
                float[] row = randomRow(random, kind, columns);
                int[] bits = bitsOfAbs(row);
                Integer[] order = stableOrder(row);
                for (int k = 0; k <= columns; k++) {
                    int[] expected = new int[columns];
                    for (int r = 0; r < k; r++) {
                        expected[order[r]] = 1;
                    }
                    assertArrayEquals(expected, mask(bits, cuts[k].lastPrunedKey(bits)),
                            "length " + columns + ", kind " + kind + ", k " + k + ": " + Arrays.toString(row));
                }
            }
        }
    }

    @Test
    void longRowsMatchAStableSort() {
        SplittableRandom random = new SplittableRandom(21);
        RowSelection cut = new RowSelection(4096, 2048);
        for (int trial = 0; trial < 20; trial++) {
            float[] row = randomRow(random, trial % 4, 4096);
            int[] bits = bitsOfAbs(row);
            Integer[] order = stableOrder(row);
            int[] expected = new int[row.length];
            for (int r = 0; r < 2048; r++) {
                expected[order[r]] = 1;
            }
            assertArrayEquals(expected, mask(bits, cut.lastPrunedKey(bits)), "trial " + trial);
        }
    }

    @Test
    void rejectsAPruneCountOutsideTheRow() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RowSelection(4, 5));
        assertEquals("need columns > 0 and 0 <= pruneCount <= columns, got 4, 5", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new RowSelection(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new RowSelection(3, -1));
    }

    /** Kind 0: values in {-0.5, -0.25, -0, 0, 0.25, 0.5} (ties); 1: signed, over twenty powers of ten; 2: a fifth zeros; 3: infinities. */
    private static float[] randomRow(SplittableRandom random, int kind, int columns) {
        float[] row = new float[columns];
        for (int j = 0; j < columns; j++) {
            float sign = random.nextBoolean() ? 1f : -1f;
            row[j] = kind == 0 ? sign * random.nextInt(3) * 0.25f : sign * (float) Math.exp(46 * random.nextDouble() - 23);
            if (kind >= 2 && random.nextInt(5) == 0) {
                row[j] = random.nextBoolean() ? 0f : -0f;
            }
            if (kind == 3 && random.nextInt(20) == 0) {
                row[j] = sign * Float.POSITIVE_INFINITY;
            }
        }
        return row;
    }

    /** Columns in ascending order of |value| by Java's stable object sort (equal |values|: lower column first). */
    private static Integer[] stableOrder(float[] row) {
        Integer[] order = new Integer[row.length];
        for (int j = 0; j < order.length; j++) {
            order[j] = j;
        }
        Arrays.sort(order, Comparator.comparingDouble(j -> Math.abs((double) row[j])));
        return order;
    }

    private static int[] bitsOfAbs(float[] row) {
        int[] bits = new int[row.length];
        for (int j = 0; j < row.length; j++) {
            bits[j] = Float.floatToRawIntBits(Math.abs(row[j]));
        }
        return bits;
    }

    private static int[] mask(int[] bits, long last) {
        int[] mask = new int[bits.length];
        for (int j = 0; j < bits.length; j++) {
            mask[j] = RowSelection.pruned(bits[j], j, last);
        }
        return mask;
    }
}
