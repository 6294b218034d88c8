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
        byte[] pruned = new byte[4];
        new RowPruner(4, 0.5).unstructured(new float[] {0.3f, 0.1f, 0.2f, 0.9f}, pruned);
        assertArrayEquals(mask("0110"), pruned);
    }

    @Test
    void equalScoresPruneTheLowerColumnFirst() {
        byte[] pruned = new byte[6];
        RowPruner pruner = new RowPruner(6, 0.5);
        pruner.unstructured(new float[] {0.5f, 0.2f, 0.5f, 0.2f, 0.5f, 0.2f}, pruned);
        // the three 0.2s are exactly the three smallest
        assertArrayEquals(mask("010101"), pruned);
        pruner.unstructured(new float[] {0.5f, 0.2f, 0.5f, 0.5f, 0.5f, 0.2f}, pruned);
        // 0.2 (col 1), 0.2 (col 5), then the first 0.5 (col 0)
        assertArrayEquals(mask("110001"), pruned);
        pruner.unstructured(new float[] {0f, 0f, 0f, 0f, 0f, 0f}, pruned);
        assertArrayEquals(mask("111000"), pruned);
    }

    @Test
    void prunesFloorOfColumnsTimesSparsity() {
        assertEquals(2, new RowPruner(5, 0.5).pruneCount());
        assertEquals(0, new RowPruner(1, 0.5).pruneCount());
        byte[] pruned = {1};
        new RowPruner(1, 0.5).unstructured(new float[] {1f}, pruned);
        assertArrayEquals(mask("0"), pruned);
        pruned = new byte[5];
        new RowPruner(5, 0.5).unstructured(new float[] {4f, 3f, 2f, 1f, 0f}, pruned);
        assertArrayEquals(mask("00011"), pruned);
    }

    @Test
    void negativeZeroIsZero() {
        byte[] pruned = new byte[2];
        new RowPruner(2, 0.5).unstructured(new float[] {0f, -0f}, pruned);
        assertArrayEquals(mask("10"), pruned);
    }

    @Test
    void matchesAStableFullSortOnRandomRows() {
        SplittableRandom random = new SplittableRandom(9);
        RowPruner reused = new RowPruner(300, 0.5);
        for (int trial = 0; trial < 400; trial++) {
            int columns = 1 + random.nextInt(300);
            double sparsity = trial % 3 == 0 ? 0.5 : random.nextDouble();
            float[] scores = randomScores(random, trial % 4, columns);
            byte[] pruned = new byte[columns];
            RowPruner pruner = new RowPruner(columns, sparsity);
            pruner.unstructured(scores, pruned);
            assertArrayEquals(stableSortMask(scores, (int) (columns * sparsity)), pruned, "trial " + trial);
            // one instance across rows: its counts start from zero every time
            float[] full = randomScores(random, trial % 4, 300);
            byte[] fullPruned = new byte[300];
            reused.unstructured(full, fullPruned);
            assertArrayEquals(stableSortMask(full, 150), fullPruned, "reused, trial " + trial);
        }
    }

    /** Kind 0: few distinct values (ties, zeros); 1: twenty powers of ten; 2: that with a fifth zeros; 3: and infinities. */
    private static float[] randomScores(SplittableRandom random, int kind, int columns) {
        float[] scores = new float[columns];
        for (int j = 0; j < columns; j++) {
            scores[j] = kind == 0 ? random.nextInt(4) * 0.25f : (float) Math.exp(46 * random.nextDouble() - 23);
            if (kind >= 2 && random.nextInt(5) == 0) {
                scores[j] = 0f;
            }
            if (kind == 3 && random.nextInt(20) == 0) {
                scores[j] = Float.POSITIVE_INFINITY;
            }
        }
        return scores;
    }

    @Test
    void aRejectedRowLeavesNoCountsBehind() {
        RowPruner pruner = new RowPruner(4, 0.5);
        assertThrows(IllegalArgumentException.class,
                () -> pruner.unstructured(new float[] {0f, 3f, 5f, Float.NaN}, new byte[4]));
        byte[] pruned = new byte[4];
        pruner.unstructured(new float[] {4f, 6f, 5f, 3f}, pruned);
        assertArrayEquals(mask("1001"), pruned);
    }

    @Test
    void nOfMMatchesAStableSortOfEachGroup() {
        SplittableRandom random = new SplittableRandom(4);
        int[][] patterns = {{2, 4}, {1, 4}, {3, 8}, {2, 3}, {0, 4}, {4, 4}};
        for (int trial = 0; trial < 240; trial++) {
            int n = patterns[trial % patterns.length][0];
            int m = patterns[trial % patterns.length][1];
            float[] scores = randomScores(random, trial % 4, 1 + random.nextInt(40));
            byte[] pruned = new byte[scores.length];
            RowPruner.nOfM(scores, n, m, pruned);
            byte[] expected = new byte[scores.length];
            for (int g = 0; g + m <= scores.length; g += m) {
                byte[] group = stableSortMask(Arrays.copyOfRange(scores, g, g + m), n);
                System.arraycopy(group, 0, expected, g, m);
            }
            assertArrayEquals(expected, pruned, n + ":" + m + ", trial " + trial);
        }
    }

    @Test
    void twoOfFourPrunesTheTwoSmallestOfEachGroup() {
        byte[] pruned = new byte[8];
        RowPruner.nOfM(new float[] {0.4f, 0.1f, 0.3f, 0.2f, 5f, 6f, 7f, 8f}, 2, 4, pruned);
        assertArrayEquals(mask("01011100"), pruned);
    }

    @Test
    void twoOfFourTiesPruneTheLowerColumnsOfTheGroup() {
        byte[] pruned = new byte[8];
        RowPruner.nOfM(new float[] {2f, 2f, 2f, 2f, 3f, 1f, 3f, 1f}, 2, 4, pruned);
        assertArrayEquals(mask("11000101"), pruned);
        RowPruner.nOfM(new float[] {5f, 1f, 5f, 5f, 0f, 0f, 0f, 9f}, 2, 4, pruned);
        assertArrayEquals(mask("11001100"), pruned);
    }

    @Test
    void aTrailingPartialGroupIsLeftUnpruned() {
        byte[] pruned = mask("1111111");
        RowPruner.nOfM(new float[] {4f, 3f, 2f, 1f, 0f, 0f, 0f}, 2, 4, pruned);
        assertArrayEquals(mask("0011000"), pruned);
    }

    @Test
    void rejectsNegativeScores() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RowPruner(2, 0.5).unstructured(new float[] {1f, -2f}, new byte[2]));
        assertEquals("score -2.0 at column 1 is negative or NaN", e.getMessage());
    }

    /** The first k of the columns sorted by score with Java's stable object sort. */
    private static byte[] stableSortMask(float[] scores, int k) {
        Integer[] order = new Integer[scores.length];
        for (int j = 0; j < order.length; j++) {
            order[j] = j;
        }
        Arrays.sort(order, Comparator.comparingDouble(j -> scores[j]));
        byte[] mask = new byte[scores.length];
        for (int r = 0; r < k; r++) {
            mask[order[r]] = 1;
        }
        return mask;
    }

    /** A mask written as digits, e.g. "0110". */
    private static byte[] mask(String digits) {
        byte[] mask = new byte[digits.length()];
        for (int j = 0; j < mask.length; j++) {
            mask[j] = (byte) (digits.charAt(j) - '0');
        }
        return mask;
    }
}
