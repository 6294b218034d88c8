package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class RowPrunerTest {

    @Test
    void prunesTheSmallestHalf() {
        boolean[] pruned = new boolean[4];
        new RowPruner(4, 0.5).unstructured(new float[] {0.3f, 0.1f, 0.2f, 0.9f}, pruned);
        assertArrayEquals(new boolean[] {false, true, true, false}, pruned);
    }

    @Test
    void equalScoresPruneTheLowerColumnFirst() {
        boolean[] pruned = new boolean[6];
        RowPruner pruner = new RowPruner(6, 0.5);
        pruner.unstructured(new float[] {0.5f, 0.2f, 0.5f, 0.2f, 0.5f, 0.2f}, pruned);
        // the three 0.2s are exactly the three smallest
        assertArrayEquals(new boolean[] {false, true, false, true, false, true}, pruned);
        pruner.unstructured(new float[] {0.5f, 0.2f, 0.5f, 0.5f, 0.5f, 0.2f}, pruned);
        // 0.2 (col 1), 0.2 (col 5), then the first 0.5 (col 0)
        assertArrayEquals(new boolean[] {true, true, false, false, false, true}, pruned);
        pruner.unstructured(new float[] {0f, 0f, 0f, 0f, 0f, 0f}, pruned);
        assertArrayEquals(new boolean[] {true, true, true, false, false, false}, pruned);
    }

    @Test
    void prunesFloorOfColumnsTimesSparsity() {
        assertEquals(2, new RowPruner(5, 0.5).pruneCount());
        assertEquals(0, new RowPruner(1, 0.5).pruneCount());
        boolean[] pruned = {true};
        new RowPruner(1, 0.5).unstructured(new float[] {1f}, pruned);
        assertArrayEquals(new boolean[] {false}, pruned);
        pruned = new boolean[5];
        new RowPruner(5, 0.5).unstructured(new float[] {4f, 3f, 2f, 1f, 0f}, pruned);
        assertArrayEquals(new boolean[] {false, false, false, true, true}, pruned);
    }

    @Test
    void negativeZeroIsZero() {
        boolean[] pruned = new boolean[2];
        new RowPruner(2, 0.5).unstructured(new float[] {0f, -0f}, pruned);
        assertArrayEquals(new boolean[] {true, false}, pruned);
    }

    @Test
    void matchesAStableFullSortOnRandomRows() {
        SplittableRandom random = new SplittableRandom(9);
        for (int trial = 0; trial < 300; trial++) {
            int columns = 1 + random.nextInt(300);
            double sparsity = trial % 3 == 0 ? 0.5 : random.nextDouble();
            float[] scores = new float[columns];
            for (int j = 0; j < columns; j++) {
                // few distinct values in some rows (ties), a wide range in others
                scores[j] = trial % 2 == 0 ? random.nextInt(4) * 0.25f
                        : (float) Math.exp(20 * random.nextDouble() - 10);
            }
            boolean[] pruned = new boolean[columns];
            RowPruner pruner = new RowPruner(columns, sparsity);
            pruner.unstructured(scores, pruned);
            assertArrayEquals(stableSortMask(scores, (int) (columns * sparsity)), pruned, "trial " + trial);
        }
    }

    @Test
    void twoOfFourPrunesTheTwoSmallestOfEachGroup() {
        boolean[] pruned = new boolean[8];
        RowPruner.nOfM(new float[] {0.4f, 0.1f, 0.3f, 0.2f, 5f, 6f, 7f, 8f}, 2, 4, pruned);
        assertArrayEquals(new boolean[] {false, true, false, true, true, true, false, false}, pruned);
    }

    @Test
    void twoOfFourTiesPruneTheLowerColumnsOfTheGroup() {
        boolean[] pruned = new boolean[8];
        RowPruner.nOfM(new float[] {2f, 2f, 2f, 2f, 3f, 1f, 3f, 1f}, 2, 4, pruned);
        assertArrayEquals(new boolean[] {true, true, false, false, false, true, false, true}, pruned);
        RowPruner.nOfM(new float[] {5f, 1f, 5f, 5f, 0f, 0f, 0f, 9f}, 2, 4, pruned);
        assertArrayEquals(new boolean[] {true, true, false, false, true, true, false, false}, pruned);
    }

    @Test
    void aTrailingPartialGroupIsLeftUnpruned() {
        boolean[] pruned = {true, true, true, true, true, true, true};
        RowPruner.nOfM(new float[] {4f, 3f, 2f, 1f, 0f, 0f, 0f}, 2, 4, pruned);
        assertArrayEquals(new boolean[] {false, false, true, true, false, false, false}, pruned);
    }

    @Test
    void rejectsNegativeScores() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RowPruner(2, 0.5).unstructured(new float[] {1f, -2f}, new boolean[2]));
        assertEquals("score -2.0 at column 1 is negative or NaN", e.getMessage());
    }

    /** The first k of the columns sorted by score with Java's stable object sort. */
    private static boolean[] stableSortMask(float[] scores, int k) {
        Integer[] order = new Integer[scores.length];
        for (int j = 0; j < order.length; j++) {
            order[j] = j;
        }
        Arrays.sort(order, Comparator.comparingDouble(j -> scores[j]));
        boolean[] mask = new boolean[scores.length];
        for (int r = 0; r < k; r++) {
            mask[order[r]] = true;
        }
        return mask;
    }
}
