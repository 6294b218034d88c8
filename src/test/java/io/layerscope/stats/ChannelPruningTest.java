package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ChannelPruningTest {
    @Test
    void aChannelIsPrunedWhenAnyRowsMaskPrunesItsColumn() {
        int out = 6;
        int in = 10;
        SplittableRandom rnd = new SplittableRandom(4);
        float[] w = new float[out * in];
        for (int k = 0; k < w.length; k++) {
            w[k] = (float) rnd.nextGaussian();
        }
        float[] scaler = new float[in];
        for (int j = 0; j < in; j++) {
            scaler[j] = (float) (rnd.nextDouble() * 4);
        }
        scaler[2] = 1e6f;   // an outlier feature: never the smallest metric
        int[] channels = {0, 2, 5, 9};
        boolean[] expected = byStableSort(w, out, in, scaler, 0.5, channels);
        boolean[] got = ChannelPruning.wandaRow(w, out, in, scaler, 0.5, channels);
        assertArrayEquals(expected, got);
        assertArrayEquals(new boolean[] {true, false, true, true}, got);
    }

    /** N:M as the run prunes with --prune-n/--prune-m: a channel is hit when it is among its group's n smallest in a row. */
    @Test
    void nOfMHitsAChannelAmongItsGroupsSmallest() {
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
        boolean[] expected = new boolean[channels.length];
        for (int i = 0; i < out; i++) {
            for (int g = 0; g < in; g += 4) {
                Integer[] order = {g, g + 1, g + 2, g + 3};
                int row = i;
                // stable ascending by metric: ties to the lower column
                Arrays.sort(order, Comparator.comparingDouble((Integer j) -> Math.abs(w[row * in + j]) * Math.sqrt(scaler[j])));
                for (int k = 0; k < channels.length; k++) {
                    expected[k] |= channels[k] == order[0] || channels[k] == order[1];
                }
            }
        }
        boolean[] got = ChannelPruning.wandaNOfM((first, count) -> Arrays.copyOfRange(w, first * in, (first + count) * in),
                out, in, scaler, 2, 4, channels);
        assertArrayEquals(expected, got);
        assertEquals(false, got[2], "the outlier feature's metric is never among the smallest");
    }

    /** Read by blocks of rows, the answer is the whole array's, and reading stops once every channel is hit. */
    @Test
    void readingStopsOnceEveryChannelIsHit() {
        int out = 3000;
        int in = 1024;   // 1024 rows per block of reading
        SplittableRandom rnd = new SplittableRandom(9);
        float[] w = new float[out * in];
        for (int k = 0; k < w.length; k++) {
            w[k] = (float) rnd.nextGaussian();
        }
        float[] scaler = new float[in];
        Arrays.fill(scaler, 1f);
        int[] all = new int[in];
        for (int j = 0; j < in; j++) {
            all[j] = j;
        }
        java.util.List<Integer> firstRows = new java.util.ArrayList<>();
        ChannelPruning.Rows rows = (first, count) -> {
            firstRows.add(first);
            return Arrays.copyOfRange(w, first * in, (first + count) * in);
        };
        boolean[] everyChannel = ChannelPruning.wandaRow(rows, out, in, scaler, 0.5, all);
        for (boolean hit : everyChannel) {
            assertEquals(true, hit);
        }
        // half of each row is pruned: every channel is hit within the first block's rows
        assertEquals(java.util.List.of(0), firstRows);

        // a channel no row prunes (its activation norm dwarfs every other): all blocks are read, the last one short
        scaler[7] = 1e12f;
        firstRows.clear();
        assertArrayEquals(new boolean[] {true, false}, ChannelPruning.wandaRow(rows, out, in, scaler, 0.5, new int[] {3, 7}));
        assertEquals(java.util.List.of(0, 1024, 2048), firstRows);
        assertArrayEquals(ChannelPruning.wandaRow(w, out, in, scaler, 0.5, new int[] {3, 7}),
                ChannelPruning.wandaRow(rows, out, in, scaler, 0.5, new int[] {3, 7}));
    }
    /**
     * Outlier channels (large activation norms, rarely pruned), ordinary ones, and weights on a coarse
     * grid so that metrics tie: the answer is the stable sort's, at several sparsities, whether a row
     * is settled by its count below the open channels' smallest metric or by its mask.
     */
    @Test
    void rowsSettledByTheirCountAgreeWithTheStableSort() {
        SplittableRandom rnd = new SplittableRandom(21);
        for (int trial = 0; trial < 400; trial++) {
            // few rows, so that each row's answer shows (the answer is an OR over the rows)
            int out = 1 + rnd.nextInt(trial % 3 == 0 ? 40 : 2);
            int in = 2 + rnd.nextInt(60);
            double sparsity = new double[] {0.5, 0.3, 0.7, 0.01}[trial % 4];
            float[] w = new float[out * in];
            for (int k = 0; k < w.length; k++) {
                w[k] = trial % 2 == 0 ? (float) rnd.nextGaussian() : (rnd.nextInt(7) - 3) / 4f;
            }
            float[] scaler = new float[in];
            for (int j = 0; j < in; j++) {
                scaler[j] = rnd.nextInt(5) == 0 ? (float) (1e4 * (1 + rnd.nextDouble())) : rnd.nextInt(3) + 1;
            }
            int[] channels = rnd.ints(1 + rnd.nextInt(Math.min(in, 8)), 0, in).distinct().toArray();
            assertArrayEquals(byStableSort(w, out, in, scaler, sparsity, channels), ChannelPruning.wandaRow(w, out, in, scaler, sparsity, channels),
                    "trial " + trial + ": " + out + " x " + in + " at " + sparsity + ", channels " + Arrays.toString(channels));
        }
    }

    /** Independently: per row a stable ascending sort of |W| * sqrt(scaler_row), whose floor(in * sparsity) first are pruned. */
    private static boolean[] byStableSort(float[] w, int out, int in, float[] scaler, double sparsity, int[] channels) {
        boolean[] expected = new boolean[channels.length];
        for (int i = 0; i < out; i++) {
            int row = i;
            Integer[] order = new Integer[in];
            for (int j = 0; j < in; j++) {
                order[j] = j;
            }
            Arrays.sort(order, Comparator.comparingDouble(j -> Math.abs(w[row * in + j]) * (float) Math.sqrt(scaler[j])));
            for (int r = 0; r < (int) (in * sparsity); r++) {
                for (int k = 0; k < channels.length; k++) {
                    expected[k] |= order[r] == channels[k];
                }
            }
        }
        return expected;
    }
}
