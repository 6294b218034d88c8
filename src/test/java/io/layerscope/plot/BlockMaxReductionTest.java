package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BlockMaxReductionTest {
    private static NDManager nd;

    @BeforeAll
    static void engine() {
        nd = NDManager.newBaseManager(Device.cpu(), "PyTorch");
    }

    @AfterAll
    static void close() {
        nd.close();
    }

    /** Independent reference: a plain loop over every source entry, blocks cut by hand. */
    private static float[] loopBlockMax(float[] w, int out, int in, int rb, int cb, float[] colScale, boolean abs) {
        int rows = (out + rb - 1) / rb;
        int cols = (in + cb - 1) / cb;
        float[] cells = new float[rows * cols];
        Arrays.fill(cells, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                float v = abs ? Math.abs(w[i * in + j]) : w[i * in + j];
                if (colScale != null) {
                    v = v * colScale[j];
                }
                int cell = (i / rb) * cols + j / cb;
                cells[cell] = Math.max(cells[cell], v);
            }
        }
        return cells;
    }

    private static float[] gaussian(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            // Box-Muller: signed, unbounded values so block maxima and minima both matter.
            double u1 = 1.0 - rnd.nextDouble();
            v[i] = (float) (0.02 * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rnd.nextDouble()));
        }
        return v;
    }

    private static float[] uniformNorms(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int j = 0; j < n; j++) {
            a[j] = (float) (0.5 + rnd.nextDouble());
        }
        return a;
    }

    @Test
    void defaultGridOnOddShapeMatchesLoop() {
        float[] w = gaussian(1025 * 777, 2);
        float[] a = uniformNorms(777, 3);
        LayerHeatmaps maps = new BlockMaxReduction().layerHeatmaps(w, 1025, 777, a);
        ReducedMatrix m = maps.weightAbs();
        assertEquals(3, m.rowBlock());
        assertEquals(2, m.colBlock());
        assertEquals(342, m.rows());
        assertEquals(389, m.cols());
        assertArrayEquals(loopBlockMax(w, 1025, 777, 3, 2, null, true), m.values());
        assertArrayEquals(loopBlockMax(w, 1025, 777, 3, 2, a, true), maps.wanda().values());
    }

    @Test
    void smallMatrixIsNotReduced() {
        float[] w = gaussian(64 * 64, 3);
        ReducedMatrix m = new BlockMaxReduction().layerHeatmaps(w, 64, 64, uniformNorms(64, 4)).weightAbs();
        assertEquals(1, m.rowBlock());
        assertEquals(1, m.colBlock());
        assertTrue(!m.isReduced());
        float[] abs = new float[w.length];
        for (int k = 0; k < w.length; k++) {
            abs[k] = Math.abs(w[k]);
        }
        assertArrayEquals(abs, m.values());
    }

    /** The last block along each axis is shorter, not padded: cells by hand. */
    @Test
    void tailBlocksAreShorterNotPadded() {
        float[] w = new float[5 * 3];
        for (int i = 0; i < w.length; i++) {
            w[i] = -1 - i;
        }
        float[] ones = {1, 1, 1};
        ReducedMatrix m = new BlockMaxReduction(2, 2).layerHeatmaps(w, 5, 3, ones).weightAbs();
        assertEquals(3, m.rowBlock());
        assertEquals(2, m.colBlock());
        // rows 0-2 | 3-4 by columns 0-1 | 2: |w| = 1 + index, each cell's largest index
        assertArrayEquals(new float[] {8, 9, 14, 15}, m.values());
    }

    @Test
    void layerHeatmapsMatchLoopOnOddShape() {
        int out = 1000;
        int in = 777;
        float[] w = gaussian(out * in, 4);
        float[] a = uniformNorms(in, 5);
        LayerHeatmaps maps = new BlockMaxReduction(64, 50).layerHeatmaps(w, out, in, a);
        assertArrayEquals(loopBlockMax(w, out, in, 16, 16, null, true), maps.weightAbs().values());
        assertArrayEquals(loopBlockMax(w, out, in, 16, 16, a, true), maps.wanda().values());
        assertEquals(maps.weightAbs().rows(), maps.wanda().rows());
        assertEquals(maps.weightAbs().cols(), maps.wanda().cols());
    }

    /** The loops and the libtorch reference against the test's own loop. */
    @Test
    void largeLayerShapeMatchesLoop() {
        int out = 8192;
        int in = 2048;
        float[] w = gaussian(out * in, 6);
        float[] a = uniformNorms(in, 7);
        float[] absCells = loopBlockMax(w, out, in, 16, 4, null, true);
        float[] wandaCells = loopBlockMax(w, out, in, 16, 4, a, true);
        try (NDManager scope = nd.newSubManager()) {
            for (LayerHeatmaps maps : List.of(new TorchBlockMaxReduction().layerHeatmaps(scope.create(w, new Shape(out, in)), a),
                    new BlockMaxReduction().layerHeatmaps(w, out, in, a))) {
                assertEquals(512, maps.wanda().rows());
                assertEquals(512, maps.wanda().cols());
                assertEquals(16, maps.wanda().rowBlock());
                assertEquals(4, maps.wanda().colBlock());
                assertArrayEquals(absCells, maps.weightAbs().values());
                assertArrayEquals(wandaCells, maps.wanda().values());
            }
        }
    }

    /** lm_head's row count, both ways: blocks of ceil(128256/512) = 251 rows, 510 whole and a tail of 246. */
    @Test
    void lmHeadRowsReduceWithShortTailBlock() {
        int out = 128256;
        int in = 16;
        float[] w = new float[out * in];
        float[] a = new float[in];
        Arrays.fill(a, 1f);
        a[15] = 3f;
        w[0] = 0.5f;
        w[128009 * in + 5] = 0.25f;                          // last row of the last whole block
        w[128010 * in + 9] = -0.75f;                         // first row of the tail block
        w[128255 * in + 15] = -2f;                           // last entry
        try (NDManager scope = nd.newSubManager()) {
            for (LayerHeatmaps maps : List.of(new BlockMaxReduction(512, 8).layerHeatmaps(w, out, in, a),
                    new TorchBlockMaxReduction(512, 8).layerHeatmaps(scope.create(w, new Shape(out, in)), a))) {
                ReducedMatrix abs = maps.weightAbs();
                assertEquals(511, abs.rows());
                assertEquals(8, abs.cols());
                assertEquals(251, abs.rowBlock());
                assertEquals(2, abs.colBlock());
                assertEquals(0.5f, abs.value(0, 0));
                assertEquals(0.25f, abs.value(509, 2));
                assertEquals(0.75f, abs.value(510, 4));
                assertEquals(2f, abs.value(510, 7));
                assertEquals(6f, maps.wanda().value(510, 7));
                float sum = 0;
                for (float v : abs.values()) {
                    sum += v;
                }
                assertEquals(0.5f + 0.25f + 0.75f + 2f, sum);
            }
        }
    }

    /** The loops give the libtorch reference's cells bit for bit, NaN and signed zeros included. */
    @Test
    void javaArraysAndLibtorchArraysGiveTheSameCells() {
        int out = 1003;
        int in = 517;
        float[] w = gaussian(out * in, 10);
        float[] a = uniformNorms(in, 11);
        w[5 * in + 7] = Float.NaN;                           // one NaN: its cell shows NaN
        for (int i = 64; i < 96; i++) {
            for (int j = 40; j < 60; j++) {
                w[i * in + j] = (i + j) % 2 == 0 ? -0.0f : -(i * j) * 1e-6f;   // blocks of negatives and -0
            }
        }
        a[3] = 0f;
        BlockMaxReduction reduction = new BlockMaxReduction(100, 70);
        LayerHeatmaps java = reduction.layerHeatmaps(w, out, in, a);
        try (NDManager scope = nd.newSubManager()) {
            LayerHeatmaps torch = new TorchBlockMaxReduction(100, 70).layerHeatmaps(scope.create(w, new Shape(out, in)), a);
            for (ReducedMatrix[] pair : new ReducedMatrix[][] {{java.weightAbs(), torch.weightAbs()},
                    {java.wanda(), torch.wanda()}}) {
                assertEquals(pair[1].rows(), pair[0].rows());
                assertEquals(pair[1].cols(), pair[0].cols());
                assertEquals(pair[1].rowBlock(), pair[0].rowBlock());
                assertEquals(pair[1].colBlock(), pair[0].colBlock());
                assertArrayEquals(pair[1].values(), pair[0].values());
            }
        }
        assertTrue(Float.isNaN(java.weightAbs().value(0, 0)));
        assertTrue(Float.isNaN(java.wanda().value(0, 0)));
    }

    @Test
    void plantedOutlierFeaturesAreTheBrightestWandaColumns() {
        int out = 1000;
        int in = 777;
        float[] w = gaussian(out * in, 8);
        float[] a = uniformNorms(in, 9);
        int[] outliers = {3, 250, 251, 600, 776};
        for (int j : outliers) {
            a[j] = 100f;
        }
        ReducedMatrix wanda = new BlockMaxReduction().layerHeatmaps(w, out, in, a).wanda();
        double[] columnMean = new double[wanda.cols()];
        for (int r = 0; r < wanda.rows(); r++) {
            for (int c = 0; c < wanda.cols(); c++) {
                columnMean[c] += wanda.value(r, c) / wanda.rows();
            }
        }
        Set<Integer> expected = Arrays.stream(outliers).map(j -> j / wanda.colBlock()).boxed()
                .collect(Collectors.toCollection(TreeSet::new));
        Set<Integer> brightest = IntStream.range(0, wanda.cols()).boxed()
                .sorted(Comparator.comparingDouble((Integer c) -> -columnMean[c]))
                .limit(expected.size()).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Set.of(1, 125, 300, 388), expected);
        assertEquals(expected, brightest);
    }

    @Test
    void refusesWrongValueCounts() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BlockMaxReduction().layerHeatmaps(new float[5], 2, 3, new float[3]));
        assertEquals("heatmap reduction: a 2 x 3 weight needs 6 row-major values, got 5", e.getMessage());
    }

    @Test
    void refusesBadActivationNorms() {
        BlockMaxReduction reduction = new BlockMaxReduction();
        IllegalArgumentException length = assertThrows(IllegalArgumentException.class,
                () -> reduction.layerHeatmaps(new float[6], 2, 3, new float[] {1, 1}));
        assertEquals("heatmap reduction: the activation norm must have one value per input feature (3), got 2",
                length.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> reduction.layerHeatmaps(new float[6], 2, 3, new float[] {1, -0.5f, 1}));
        assertEquals("heatmap reduction: the activation norm of input feature 1 is -0.5; norms must be finite "
                + "and non-negative (sqrt of scaler_row)", negative.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> reduction.layerHeatmaps(new float[6], 2, 3, new float[] {1, 1, Float.NaN}));
        assertEquals("heatmap reduction: the activation norm of input feature 2 is NaN; norms must be finite "
                + "and non-negative (sqrt of scaler_row)", nan.getMessage());
    }

    @Test
    void refusesEmptyGrid() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BlockMaxReduction(0, 512));
        assertEquals("heatmap reduction: the largest cell grid must be at least 1 x 1, got 0 x 512", e.getMessage());
    }
}
