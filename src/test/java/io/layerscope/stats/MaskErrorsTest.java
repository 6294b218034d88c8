package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/**
 * The output error of each mask, E(P) = ||dW X||_F^2 / ||W X||_F^2, against a direct computation
 * from the calibration inputs X themselves (no Gram matrix, masks from full stable sorts).
 */
class MaskErrorsTest {
    private static final int OUT = 7;
    private static final int IN = 12;
    private static final int TOKENS = 40;

    @Test
    void errorsEqualTheDirectOutputErrorOfEveryMask() {
        for (long seed = 1; seed <= 5; seed++) {
            Layer l = new Layer(seed);
            int[] columns = {IN - 1, 3, 0};
            LayerByProducts extra = new LayerByProducts().wandaPrunedRows(columns);
            LayerStats s = LayerStatistics.compute("t", l.w, OUT, IN, l.scalerRow, 0.5, null, GramProducts.of(l.gram()),
                    extra);
            boolean[][] masks = l.masks(0.5);
            ReconstructionErrors e = s.errors();
            String at = "seed " + seed;
            assertEquals(l.error(masks[0]), e.wanda(), 1e-12, at);
            assertEquals(l.error(masks[1]), e.magnitudeRow(), 1e-12, at);
            assertEquals(l.error(masks[2]), e.magnitudeLayer(), 1e-12, at);
            assertEquals(l.error(masks[3]), e.wanda2of4(), 1e-12, at);
            assertEquals(l.error(masks[4]), e.ria(), 1e-12, at);
            assertEquals(l.diagonalError(masks[0]), e.diagWanda(), 1e-12, at);
            // the output errors' pass counts the Wanda row mask's pruned rows of some columns too
            int[] prunedPerColumn = new int[IN];
            for (int k = 0; k < OUT * IN; k++) {
                prunedPerColumn[k % IN] += masks[0][k] ? 1 : 0;
            }
            assertArrayEquals(new int[] {prunedPerColumn[IN - 1], prunedPerColumn[3], prunedPerColumn[0]},
                    extra.wandaPrunedRows(), at);
        }
    }

    /**
     * An all-zero column and an all-zero row: RIA's sums of |W| over them are 0, and their 0/0 shares
     * are taken as 0 (docs/METRICS.md; torch would give NaN), so their entries rank lowest and RIA's
     * layer mask prunes them first. A NaN there would sort last, never pruned, and move the
     * threshold: the output error and the agreement with Wanda would differ.
     */
    @Test
    void riaOfAnAllZeroColumnOrRowIsZeroAndPrunedFirst() {
        for (long seed = 1; seed <= 3; seed++) {
            Layer l = new Layer(seed);
            for (int i = 0; i < OUT; i++) {
                l.w[i * IN + 4] = 0f;
            }
            for (int j = 0; j < IN; j++) {
                l.w[2 * IN + j] = 0f;
            }
            LayerStats s = LayerStatistics.compute("t", l.w, OUT, IN, l.scalerRow, 0.5, null, GramProducts.of(l.gram()));
            boolean[][] masks = l.masks(0.5);
            String at = "seed " + seed;
            for (int k = 0; k < OUT * IN; k++) {
                if (k % IN == 4 || k / IN == 2) {
                    assertTrue(masks[4][k], at + ": RIA of zero entry " + k + " is 0, among the smallest");
                }
            }
            assertEquals(l.error(masks[4]), s.errors().ria(), 1e-12, at);
            int agree = 0;
            for (int k = 0; k < OUT * IN; k++) {
                agree += masks[0][k] == masks[4][k] ? 1 : 0;
            }
            assertEquals((double) agree / (OUT * IN), s.masks().riaWanda(), at);
        }
    }

    @Test
    void threadsGiveTheSameBits() {
        Layer l = new Layer(9);
        GramProducts g = GramProducts.of(l.gram());
        LayerStats one = LayerStatistics.compute("t", l.w, OUT, IN, l.scalerRow, 0.3, null, g);
        ForkJoinPool pool = new ForkJoinPool(3);
        try {
            LayerStats chunked = LayerStatistics.compute("t", l.w, OUT, IN, l.scalerRow, 0.3, pool, 2, g);
            // other chunks add the rows in another order: the same to rounding
            assertEquals(one.errors().wanda(), chunked.errors().wanda(), 1e-15);
            assertEquals(LayerStatistics.compute("t", l.w, OUT, IN, l.scalerRow, 0.3, null, 2, g), chunked);
        } finally {
            pool.shutdown();
        }
    }

    /**
     * With a pool, every chunk's products run on the pool's threads, the last partial block
     * included: the calling thread only merges, so it does not run products beside the pool.
     */
    @Test
    void productsRunOnThePoolsThreadsNotTheMergingOne() {
        Layer l = new Layer(9);
        GramProducts plain = GramProducts.of(l.gram());
        Set<Thread> callers = ConcurrentHashMap.newKeySet();
        GramProducts recording = new GramProducts() {
            @Override
            public int features() {
                return plain.features();
            }

            @Override
            public double diagonal(int j) {
                return plain.diagonal(j);
            }

            @Override
            public double[] quadraticForms(double[] rows, int count) {
                callers.add(Thread.currentThread());
                return plain.quadraticForms(rows, count);
            }
        };
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            LayerStats s = LayerStatistics.compute("t", l.w, OUT, IN, l.scalerRow, 0.3, pool, 2, recording);
            assertEquals(LayerStatistics.compute("t", l.w, OUT, IN, l.scalerRow, 0.3, null, 2, plain), s);
            assertFalse(callers.isEmpty());
            assertFalse(callers.contains(Thread.currentThread()), "products on the merging thread");
        } finally {
            pool.shutdown();
        }
    }

    /**
     * Rows of 2,560 inputs: BLOCK_VALUES alone would send blocks of 68 rows (408 vectors), the floor
     * makes them 86 rows (516 vectors), so 100 rows go as 86 and 14. G is never formed: the test's
     * products are ||X v||^2 over the inputs, an independent way to the same quadratic forms.
     */
    @Test
    void wideRowsGoInBlocksOfAtLeast512VectorsAndGiveTheDirectErrors() {
        Layer l = new Layer(11, 100, 2560, 6);
        List<Integer> blocks = new ArrayList<>();
        GramProducts viaInputs = new GramProducts() {
            @Override
            public int features() {
                return l.in;
            }

            @Override
            public double diagonal(int j) {
                double d = 0;
                for (float[] row : l.x) {
                    d += (double) row[j] * row[j];
                }
                return d;
            }

            @Override
            public double[] quadraticForms(double[] rows, int count) {
                blocks.add(count);
                double[] forms = new double[count];
                for (int r = 0; r < count; r++) {
                    for (float[] token : l.x) {
                        double y = 0;
                        for (int j = 0; j < l.in; j++) {
                            y += token[j] * rows[r * l.in + j];
                        }
                        forms[r] += y * y;
                    }
                }
                return forms;
            }
        };
        LayerStats s = LayerStatistics.compute("t", l.w, l.out, l.in, l.scalerRow, 0.5, null, viaInputs);
        ReconstructionErrors e = s.errors();
        boolean[][] masks = l.masks(0.5);
        assertEquals(List.of(516, 84), blocks);
        assertEquals(l.error(masks[0]), e.wanda(), 1e-12);
        assertEquals(l.error(masks[1]), e.magnitudeRow(), 1e-12);
        assertEquals(l.error(masks[2]), e.magnitudeLayer(), 1e-12);
        assertEquals(l.error(masks[3]), e.wanda2of4(), 1e-12);
        assertEquals(l.error(masks[4]), e.ria(), 1e-12);
        assertEquals(l.diagonalError(masks[0]), e.diagWanda(), 1e-12);
    }

    @Test
    void noGramMeansNoErrors() {
        Layer l = new Layer(3);
        assertNull(LayerStatistics.compute("t", l.w, OUT, IN, l.scalerRow, 0.5).errors());
    }

    @Test
    void aGramMatrixOfAnotherTapIsRefused() {
        Layer l = new Layer(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LayerStatistics.compute("t",
                l.w, OUT, IN, l.scalerRow, 0.5, null, GramProducts.of(new double[25])));
        assertEquals("a Gram matrix of side 5 for a layer of in_features 12; the Gram matrix belongs to another tap",
                e.getMessage());
    }

    @Test
    void participationRatioAndDeadFeaturesByHand() {
        // G = diag(4, 0, 1) plus G[0,2] = G[2,0] = 2: tr 5, ||G||_F^2 = 16 + 1 + 8 = 25
        double[] g = {4, 0, 2, 0, 0, 0, 2, 0, 1};
        TapGram t = TapGram.of(g);
        assertEquals(1.0, t.participationRatio(), 1e-15);
        assertEquals(1, t.deadFeatures());
        // diag / 2 samples = 2, 0, .5 against scaler_row 2, 0, .4: the worst relative difference is .25
        assertEquals(0.25, TapGram.diagonalDifference(g, 2, new float[] {2f, 0f, 0.4f}), 1e-7);
    }

    /** A random layer and random inputs, with its Gram matrix and scaler_row made from them. */
    private static final class Layer {
        final int out;
        final int in;
        final float[] w;
        final float[][] x;
        final float[] scalerRow;

        Layer(long seed) {
            this(seed, OUT, IN, TOKENS);
        }

        Layer(long seed, int out, int in, int tokens) {
            this.out = out;
            this.in = in;
            w = new float[out * in];
            x = new float[tokens][in];
            scalerRow = new float[in];
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) r.nextGaussian();
            }
            w[5] = 0f;
            for (int t = 0; t < x.length; t++) {
                for (int j = 0; j < in; j++) {
                    // correlated features: every feature leans on feature 0
                    x[t][j] = (float) (r.nextGaussian() * (1 + j % 3) + (j > 0 ? 0.7 * x[t][0] : 0));
                }
            }
            for (int j = 0; j < in; j++) {
                double sum = 0;
                for (int t = 0; t < x.length; t++) {
                    sum += (double) x[t][j] * x[t][j];
                }
                scalerRow[j] = (float) (sum / 4);   // 4 "samples" of 10 tokens
            }
        }

        double[] gram() {
            double[] g = new double[in * in];
            for (float[] row : x) {
                for (int j = 0; j < in; j++) {
                    for (int k = 0; k < in; k++) {
                        g[j * in + k] += (double) row[j] * row[k];
                    }
                }
            }
            return g;
        }

        /** ||dW X^T||^2 / ||W X^T||^2, token by token. */
        double error(boolean[] pruned) {
            double removed = 0;
            double whole = 0;
            for (float[] row : x) {
                for (int i = 0; i < out; i++) {
                    double y = 0;
                    double dy = 0;
                    for (int j = 0; j < in; j++) {
                        y += (double) w[i * in + j] * row[j];
                        dy += pruned[i * in + j] ? (double) w[i * in + j] * row[j] : 0;
                    }
                    whole += y * y;
                    removed += dy * dy;
                }
            }
            return removed / whole;
        }

        double diagonalError(boolean[] pruned) {
            double removed = 0;
            double whole = 0;
            for (float[] row : x) {
                double[] y = new double[out];
                for (int i = 0; i < out; i++) {
                    for (int j = 0; j < in; j++) {
                        double v = (double) w[i * in + j] * row[j];
                        y[i] += v;
                        removed += pruned[i * in + j] ? v * v : 0;
                    }
                    whole += y[i] * y[i];
                }
            }
            return removed / whole;
        }

        /** Wanda row, magnitude row, magnitude layer, Wanda 2:4, RIA layer; from full stable sorts. */
        boolean[][] masks(double p) {
            float[] act = new float[in];
            for (int j = 0; j < in; j++) {
                act[j] = (float) Math.sqrt(scalerRow[j]);
            }
            return ReferenceMasks.of(w, out, in, act, p);
        }
    }
}
