package io.layerscope.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.stats.WeightRows;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

class LayerPrunerTest {
    @Test
    void unstructuredMasksAreTheStableSortsSmallestPerRow() {
        SplittableRandom rnd = new SplittableRandom(7);
        int out = 9;
        int in = 37;
        float[] w = new float[out * in];
        for (int k = 0; k < w.length; k++) {
            // a coarse grid makes ties common, as bf16 weights do
            w[k] = (rnd.nextInt(9) - 4) / 4f;
        }
        float[] scaler = new float[in];
        for (int j = 0; j < in; j++) {
            scaler[j] = j % 3 == 0 ? 4f : 1f + rnd.nextInt(3);
        }
        for (double s : new double[] {0.3, 0.5, 0.77}) {
            LayerMask mask = LayerPruner.wanda("l", w, out, in, io.layerscope.stats.ActivationNorms.of(scaler), s, SparsityPattern.UNSTRUCTURED);
            long pruned = 0;
            for (int i = 0; i < out; i++) {
                List<Integer> cols = new ArrayList<>();
                float[] metric = new float[in];
                for (int j = 0; j < in; j++) {
                    metric[j] = Math.abs(w[i * in + j]) * (float) Math.sqrt(scaler[j]);
                    cols.add(j);
                }
                cols.sort(Comparator.comparingDouble(j -> metric[j]));
                boolean[] expected = new boolean[in];
                for (int k = 0; k < (int) (in * s); k++) {
                    expected[cols.get(k)] = true;
                }
                for (int j = 0; j < in; j++) {
                    assertEquals(expected[j], mask.pruned(i, j), "s " + s + " row " + i + " col " + j);
                }
                pruned += (int) (in * s);
            }
            assertEquals(pruned, mask.prunedCount());
            assertEquals((double) pruned / (out * in), mask.sparsity(), 0);
        }
    }

    @Test
    void nOfMPrunesTheSmallestOfEachGroupAndTiesGoToTheLowerColumn() {
        float[] w = {
            1, 1, 1, 1, 0.5f, 2, 0.5f, 3,
            4, 3, 2, 1, 2, 2, 1, 2};
        float[] norms = {1, 1, 1, 1, 1, 1, 1, 1};
        LayerMask m = LayerPruner.wanda("l", w, 2, 8, norms, 0.9, new SparsityPattern(2, 4));
        boolean[][] expected = {
            {true, true, false, false, true, false, true, false},
            {false, false, true, true, true, false, true, false}};
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 8; j++) {
                assertEquals(expected[i][j], m.pruned(i, j), "row " + i + " col " + j);
            }
        }
        LayerMask oneOfThree = LayerPruner.wanda("l", new float[] {3, 3, 3, 2, 1, 2}, 1, 6, new float[] {1, 1, 1, 1, 1, 1}, 0.5,
                new SparsityPattern(1, 3));
        assertEquals("100010", bits(oneOfThree, 6));
    }

    @Test
    void aGroupSizeThatDoesNotDivideTheRowIsRefused() {
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> LayerPruner.wanda("model.layers.0.mlp.down_proj",
                new float[12], 2, 6, new float[6], 0.5, new SparsityPattern(2, 4)));
        assertEquals("--prune-m 4 does not divide model.layers.0.mlp.down_proj's in_features 6; an N:M pattern needs"
                + " whole groups of M columns", e.getMessage());
    }

    @Test
    void masksCompareEntryByEntry() {
        LayerMask.Builder a = new LayerMask.Builder(3, 25);
        LayerMask.Builder b = new LayerMask.Builder(3, 25);
        byte[] row = new byte[25];
        row[3] = 1;
        row[24] = 1;
        a.row(0, row).row(2, row);
        row[24] = 0;
        b.row(0, row);
        LayerMask ma = a.build();
        LayerMask mb = b.build();
        assertEquals(4, ma.prunedCount());
        // differ at (0, 24), (2, 3), (2, 24): 72 of 75 agree
        assertEquals(72 / 75.0, ma.agreement(mb), 0);
        float[] keep = new float[25];
        ma.keepRow(2, keep, 0);
        assertEquals(0f, keep[3]);
        assertEquals(1f, keep[4]);
    }

    @Test
    void rowsOnAPoolGiveTheStableSortsMaskWhateverTheShape() {
        ForkJoinPool pool = new ForkJoinPool(3);
        try {
            // three chunks each of the first two (in not a multiple of 64 in the first), one of the third
            for (int[] shape : new int[][] {{70_000, 37}, {1_500, 2048}, {3, 100}}) {
                int out = shape[0];
                int in = shape[1];
                SplittableRandom rnd = new SplittableRandom(out);
                float[] w = new float[out * in];
                for (int k = 0; k < w.length; k++) {
                    w[k] = (rnd.nextInt(17) - 8) / 8f;
                }
                float[] scaler = new float[in];
                for (int j = 0; j < in; j++) {
                    scaler[j] = 1f + rnd.nextInt(4);
                }
                float[] norms = io.layerscope.stats.ActivationNorms.of(scaler);
                LayerMask mask = LayerPruner.wanda("l", w, out, in, norms, 0.5, SparsityPattern.UNSTRUCTURED, pool);
                // the same weight handed out a chunk at a time, each run a copy after five other values
                LayerMask fromRuns = LayerPruner.wanda("l", copiedRuns(w, out, in), norms, 0.5,
                        SparsityPattern.UNSTRUCTURED, pool);
                long pruned = 0;
                Integer[] cols = new Integer[in];
                float[] metric = new float[in];
                for (int i = 0; i < out; i++) {
                    for (int j = 0; j < in; j++) {
                        metric[j] = Math.abs(w[i * in + j]) * (float) Math.sqrt(scaler[j]);
                        cols[j] = j;
                    }
                    java.util.Arrays.sort(cols, Comparator.comparingDouble(j -> metric[j]));
                    boolean[] expected = new boolean[in];
                    for (int k = 0; k < in / 2; k++) {
                        expected[cols[k]] = true;
                    }
                    for (int j = 0; j < in; j++) {
                        if (expected[j] != mask.pruned(i, j) || expected[j] != fromRuns.pruned(i, j)) {
                            throw new AssertionError(out + " x " + in + ": row " + i + " col " + j);
                        }
                    }
                    pruned += in / 2;
                }
                assertEquals(pruned, mask.prunedCount(), out + " x " + in);
                assertEquals(pruned, fromRuns.prunedCount(), out + " x " + in);
            }
        } finally {
            pool.shutdown();
        }
    }

    /** {@code w} as runs of rows, each a fresh copy that starts five values into its array. */
    private static WeightRows copiedRuns(float[] w, int out, int in) {
        return new CopiedRuns(w, out, in);
    }

    private record CopiedRuns(float[] w, int out, int in) implements WeightRows {
        @Override
        public Run rows(int from, int to) {
            float[] run = new float[5 + (to - from) * in];
            java.util.Arrays.fill(run, 0, 5, Float.NaN);
            System.arraycopy(w, from * in, run, 5, (to - from) * in);
            return new Run(run, 5);
        }
    }

    @Test
    void chunksOfRowsStartOnAWordOfThePackedMask() {
        for (int in : new int[] {1, 37, 48, 64, 100, 2048, 8192, 14336, 1 << 21}) {
            int rows = LayerPruner.rowsPerChunk(in);
            assertEquals(0, (long) rows * in % 64, "in " + in);
            assertTrue(rows >= 1 && (long) rows * in <= (1 << 20) + 64L * in, "in " + in + ": " + rows + " rows");
        }
    }

    @Test
    void onAPoolTheFirstDamagedEntryInRowOrderIsReported() {
        int out = 3_000;
        int in = 2048;
        float[] w = new float[out * in];
        java.util.Arrays.fill(w, 0.25f);
        w[2_900 * in + 5] = Float.POSITIVE_INFINITY;   // in the last chunk, which may finish first
        w[700 * in + 11] = Float.NaN;                  // in the second
        ForkJoinPool pool = new ForkJoinPool(3);
        try {
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> LayerPruner.wanda("model.layers.3.mlp.up_proj",
                    w, out, in, new float[in], 0.5, SparsityPattern.UNSTRUCTURED, pool));
            assertEquals("layer model.layers.3.mlp.up_proj: weight entry [700, 11] is NaN; a mask over a non-finite weight"
                    + " is meaningless (damaged checkpoint?)", e.getMessage());
        } finally {
            pool.shutdown();
        }
    }

    /**
     * An overflowed forward pass (float16) gives an infinite or NaN norm: 0 * inf is a NaN whose sign
     * the platform picks, which N:M would rank by and the selection refuses with no word of why.
     */
    @Test
    void aNonFiniteActivationNormIsRefusedWithTheLayerAndFeature() {
        float[] w = {0, 1, 2, 3, 1, 0, 2, 3};
        for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NaN, -1f}) {
            for (SparsityPattern pattern : List.of(SparsityPattern.UNSTRUCTURED, new SparsityPattern(2, 4))) {
                LayerscopeException e = assertThrows(LayerscopeException.class, () -> LayerPruner.wanda(
                        "model.layers.2.self_attn.o_proj", w, 2, 4, new float[] {1, 1, bad, 1}, 0.5, pattern));
                assertEquals("layer model.layers.2.self_attn.o_proj: the activation norm of input feature 2 is " + bad
                        + "; Wanda's metric needs finite, non-negative norms. The forward pass that fed the layer"
                        + " overflowed or produced NaN.", e.getMessage());
            }
        }
    }

    private static String bits(LayerMask m, int in) {
        StringBuilder s = new StringBuilder();
        for (int j = 0; j < in; j++) {
            s.append(m.pruned(0, j) ? '1' : '0');
        }
        return s.toString();
    }
}
