package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ChannelPruningTest {
    /** N:M as the run prunes with --prune-n/--prune-m: a row prunes a channel among its group's n smallest. */
    @Test
    void nOfMCountsTheRowsWhereAChannelIsAmongItsGroupsSmallest() {
        int out = 5;
        int in = 12;
        SplittableRandom rnd = new SplittableRandom(11);
        float[] w = new float[out * in];
        for (int k = 0; k < w.length; k++) {
            w[k] = (rnd.nextInt(5) - 2) / 2f;   // coarse: ties within groups
        }
        float[] scaler = new float[in];
        Arrays.fill(scaler, 1f);
        scaler[6] = 1e6f;
        int[] channels = {0, 3, 6, 11};
        int[] expected = new int[channels.length];
        for (int i = 0; i < out; i++) {
            for (int g = 0; g < in; g += 4) {
                Integer[] order = {g, g + 1, g + 2, g + 3};
                int row = i;
                // stable ascending by metric: ties to the lower column
                Arrays.sort(order, Comparator.comparingDouble((Integer j) -> Math.abs(w[row * in + j]) * Math.sqrt(scaler[j])));
                for (int k = 0; k < channels.length; k++) {
                    expected[k] += channels[k] == order[0] || channels[k] == order[1] ? 1 : 0;
                }
            }
        }
        int[] got = ChannelPruning.wandaNOfM((first, count) -> Arrays.copyOfRange(w, first * in, (first + count) * in),
                out, in, scaler, 2, 4, channels);
        assertArrayEquals(expected, got);
        assertEquals(0, got[2], "the outlier feature's metric is never among the smallest");
    }

    /** Read by blocks of rows, every block once, the counts are the whole array's (the last block short). */
    @Test
    void blocksOfRowsGiveTheWholeWeightsCounts() {
        int out = 3000;
        int in = 1024;   // 1024 rows per block of reading
        SplittableRandom rnd = new SplittableRandom(9);
        float[] w = new float[out * in];
        for (int k = 0; k < w.length; k++) {
            w[k] = (float) rnd.nextGaussian();
        }
        float[] scaler = new float[in];
        Arrays.fill(scaler, 1f);
        scaler[7] = 1e12f;   // a channel no row prunes: its activation norm dwarfs every other
        java.util.List<Integer> firstRows = new java.util.ArrayList<>();
        ChannelPruning.Rows rows = (first, count) -> {
            firstRows.add(first);
            return Arrays.copyOfRange(w, first * in, (first + count) * in);
        };
        int[] channels = {3, 7, 1000};
        int[] got = ChannelPruning.wandaNOfM(rows, out, in, scaler, 2, 4, channels);
        assertEquals(java.util.List.of(0, 1024, 2048), firstRows);
        assertArrayEquals(byStableSort(w, out, in, scaler, 2, 4, channels), got);
        assertEquals(0, got[1]);
        // a 2:4 mask prunes half of each group: about half the rows prune any one ordinary column
        assertTrue(got[0] > 1300 && got[0] < 1700 && got[2] > 1300 && got[2] < 1700, Arrays.toString(got));
    }

    /** Ties on a coarse grid, outlier channels and several N:M patterns: the stable sort's counts. */
    @Test
    void nOfMAgreesWithTheStableSort() {
        SplittableRandom rnd = new SplittableRandom(21);
        int[][] patterns = {{2, 4}, {4, 8}, {1, 4}, {3, 4}};
        for (int trial = 0; trial < 200; trial++) {
            int[] p = patterns[trial % patterns.length];
            int out = 1 + rnd.nextInt(20);
            int in = p[1] * (1 + rnd.nextInt(6));
            float[] w = TiedLayers.weights(rnd, out * in, trial % 2 == 1);
            float[] scaler = TiedLayers.scalerRowWithOutliers(rnd, in);
            int[] channels = rnd.ints(1 + rnd.nextInt(Math.min(in, 8)), 0, in).distinct().toArray();
            assertArrayEquals(byStableSort(w, out, in, scaler, p[0], p[1], channels),
                    ChannelPruning.wandaNOfM((first, count) -> Arrays.copyOfRange(w, first * in, (first + count) * in),
                            out, in, scaler, p[0], p[1], channels),
                    "trial " + trial + ": " + out + " x " + in + " at " + p[0] + ":" + p[1] + ", channels "
                            + Arrays.toString(channels));
        }
    }

    /**
     * Independently: per row and group of m columns a stable ascending sort of |W| * sqrt(scaler_row),
     * whose n first are pruned.
     */
    private static int[] byStableSort(float[] w, int out, int in, float[] scaler, int n, int m, int[] channels) {
        int[] expected = new int[channels.length];
        for (int i = 0; i < out; i++) {
            int row = i;
            for (int g = 0; g < in; g += m) {
                Integer[] order = new Integer[m];
                for (int j = 0; j < m; j++) {
                    order[j] = g + j;
                }
                Arrays.sort(order, Comparator.comparingDouble(j -> Math.abs(w[row * in + j]) * (float) Math.sqrt(scaler[j])));
                for (int r = 0; r < n; r++) {
                    for (int k = 0; k < channels.length; k++) {
                        expected[k] += order[r] == channels[k] ? 1 : 0;
                    }
                }
            }
        }
        return expected;
    }
}
