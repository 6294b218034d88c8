package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.fixtures.ReferencePython;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;

import io.layerscope.LayerscopeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LayerStatisticsTest {
    private static final int[] POOL_SIZES = {1, 2, 3, 7};
    private static ForkJoinPool[] pools;

    @BeforeAll
    static void startPools() {
        pools = Arrays.stream(POOL_SIZES).mapToObj(ForkJoinPool::new).toArray(ForkJoinPool[]::new);
    }

    @AfterAll
    static void stopPools() {
        Arrays.stream(pools).forEach(ForkJoinPool::shutdownNow);
    }

    /**
     * W = [[0.5, -0.25, 0.125, -1], [0.25, 0.25, -0.5, 0]], scaler_row = [4, 1, 16, 0.25], so the
     * activation norms are [2, 1, 4, 0.5] and the Wanda metric is [[1, .25, .5, .5], [.5, .25, 2, 0]].
     * Every number below is worked out by hand from those.
     */
    @Test
    void handWorkedTwoByFourLayer() {
        float[] w = {0.5f, -0.25f, 0.125f, -1f, 0.25f, 0.25f, -0.5f, 0f};
        LayerStats s = LayerStatistics.compute(w, 2, 4, new float[] {4f, 1f, 16f, 0.25f});

        assertEquals(2, s.outFeatures());
        assertEquals(4, s.inFeatures());
        assertArrayEquals(new float[] {2f, 1f, 4f, 0.5f}, s.activationNorms());
        assertArrayEquals(new int[] {2, 0, 1, 3}, s.topActFeatures());

        // |W| sorted: 0, .125, .25, .25, .25, .5, .5, 1
        assertSummary(s.weightAbs().summary(), 8, 0.359375, 0, 1, 0.25, 0.00875, 0.965);
        assertEquals(Math.sqrt(0.669921875 / 7), s.weightAbs().summary().std(), 1e-15);
        // act sorted: .5, 1, 2, 4
        assertSummary(s.actNorm().summary(), 4, 1.875, 0.5, 4, 1, 0.515, 3.94);
        assertEquals(Math.sqrt(7.1875 / 3), s.actNorm().summary().std(), 1e-15);
        // Wanda sorted: 0, .25, .25, .5, .5, .5, 1, 2
        assertSummary(s.wanda().summary(), 8, 0.625, 0, 2, 0.5, 0.0175, 1.93);

        long[] absCounts = new long[128];
        absCounts[0] = 1;  // the zero
        absCounts[72] = 1; // .125: log10 = -0.903, bin floor((10 - 0.903) * 8) = 72
        absCounts[75] = 3; // .25: 75.18
        absCounts[77] = 2; // .5: 77.59
        absCounts[80] = 1; // 1 opens bin 80
        assertArrayEquals(absCounts, s.weightAbs().histogram().counts());
        assertEquals(1, s.weightAbs().histogram().underflow());
        assertEquals(0, s.weightAbs().histogram().overflow());

        // Wanda rows prune {1, 2} (tie .5 at cols 2 and 3: col 2 first) and {3, 1};
        // magnitude rows prune {2, 1} and {3, 0} (tie .25 at cols 0 and 1: col 0 first): 6 of 8 agree.
        // Layer: t = sorted|W|[4] = .25, pruned |W| <= .25 = {1, 2} and {0, 1, 3}: 7 of 8 agree.
        // One group of 4 per row, so 2:4 equals the per-row masks here.
        // RIA: column sums of |W| .75, .5, .625, 1; row sums 1.875, 1; factors sqrt(act_norm) = sqrt 2, 1, 2, sqrt .5:
        // [[(2/3 + 4/15) sqrt 2, 1/2 + 2/15, (1/5 + 1/15) 2, (1 + 8/15) sqrt .5],
        //  [(1/3 + 1/4) sqrt 2, 1/2 + 1/4, (4/5 + 1/2) 2, 0]] = [[1.320, .633, .533, 1.084], [.825, .75, 2.6, 0]].
        // Sorted, rank floor(8 * .5) = 4 is (1/3 + 1/4) sqrt 2: in float32 (0.33333334f + .25f) * 1.4142135f
        // = 0.82495797f (0x1.a660e4p-1). It prunes {1, 2} and {0, 1, 3}: against Wanda's rows only [1, 0] differs.
        assertEquals(new MaskAgreement(0.5, 0.75, 0.875, 0.75, 0.25f, 0.625, 0.875, 0x1.a660e4p-1f), s.masks());
        // mean .625: only 2 > 1.875; nothing > 3.125 or 4.375
        assertEquals(new OutlierRatios(0.125, 0, 0), s.outliers());
    }

    /**
     * RIA (REFERENCE.md section 8) by hand: W = [[1, -2, 0, 1], [2, 2, -1, 0], [1, 0, 1, 2]],
     * scaler_row = [16, 1, 256, 81]. Column sums of |W| 4, 4, 2, 3; row sums 4, 5, 4; act_norm
     * 4, 1, 16, 9, so the factor sqrt(act_norm) is 2, 1, 4, 3.
     * RIA = [[(1/4+1/4)2, (2/4+2/4)1, 0, (1/3+1/4)3], [(2/4+2/5)2, (2/4+2/5)1, (1/2+1/5)4, 0],
     * [(1/4+1/4)2, 0, (1/2+1/4)4, (2/3+2/4)3]] = [[1, 1, 0, 1.75], [1.8, .9, 2.8, 0], [1, 0, 3, 3.5]].
     */
    @Test
    void riaByHandOnAThreeByFourLayer() {
        float[] w = {1f, -2f, 0f, 1f, 2f, 2f, -1f, 0f, 1f, 0f, 1f, 2f};
        LayerStats s = LayerStatistics.compute(w, 3, 4, new float[] {16f, 1f, 256f, 81f});

        // sorted: 0, 0, 0, .9, 1, 1, 1, 1.75, 1.8, 2.8, 3, 3.5; sum 16.75
        Summary ria = s.ria().summary();
        assertEquals(12, ria.count());
        assertEquals(16.75 / 12, ria.mean(), 1e-6);
        assertEquals(0, ria.min());
        assertEquals(3.5, ria.max(), 1e-6);
        assertEquals(1.0, ria.median(), 1e-6);
        // the layer-wise mask: threshold sorted[floor(12 * .5)] = 1, prunes RIA <= 1:
        // row 0 {0, 1, 2}, row 1 {1, 3}, row 2 {0, 1}
        assertEquals(1.0f, s.masks().riaThreshold());
        // Wanda |W| * act_norm = [[4, 2, 0, 9], [8, 2, 16, 0], [4, 0, 16, 18]] prunes 2 per row:
        // {1, 2}, {1, 3}, {0, 1}; the masks differ only at [0, 0]
        assertEquals(11.0 / 12, s.masks().riaWanda(), 1e-15);
    }

    @Test
    void riaOfAnAllZeroColumnIsZeroNotNaN() {
        float[] w = {0f, 1f, 0f, -3f};
        LayerStats s = LayerStatistics.compute(w, 2, 2, new float[] {1f, 1f});
        // column 0 is all zero: its terms are 0; column 1: (1/4 + 1/1) and (3/4 + 3/3)
        assertEquals(0, s.ria().summary().min());
        assertEquals(1.75, s.ria().summary().max(), 1e-6);
        assertEquals((1.25 + 1.75) / 4, s.ria().summary().mean(), 1e-6);
    }

    @Test
    void layerThresholdPrunesEveryWeightEqualToIt() {
        float[] w = new float[12];
        java.util.Arrays.fill(w, -0.5f);
        LayerStats s = LayerStatistics.compute(w, 3, 4, new float[] {1f, 1f, 4f, 4f});
        // every |W| is t = .5, so the layer mask prunes all; Wanda prunes cols 0, 1 (metric .5 < 1)
        assertEquals(0.5f, s.masks().layerThreshold());
        assertEquals(1.0, s.masks().layerMaskSparsity());
        assertEquals(0.5, s.masks().layer());
        // per-row magnitude ties everywhere: the lower columns 0, 1 go, as Wanda's
        assertEquals(1.0, s.masks().row());
        assertEquals(1.0, s.masks().twoOfFour());
    }

    @Test
    void twoOfFourCountsATrailingPartialGroupAsAgreeing() {
        // in = 6: one whole group and two columns that neither 2:4 mask prunes. act [4, 1, 1, 1, 1, 1]:
        // magnitude prunes {0, 1} of the group, Wanda (metric .4 .2 .3 .4) {1, 2}: cols 0 and 2 disagree
        float[] w = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
        LayerStats s = LayerStatistics.compute(w, 1, 6, new float[] {16f, 1f, 1f, 1f, 1f, 1f});
        assertEquals(4 / 6.0, s.masks().twoOfFour());
    }

    @Test
    void twoOfFourComparesGroupByGroup() {
        // one row, two groups; act [1, 1, 1, 1, 4, 4, 1, 1] moves Wanda's choice in the second group only
        float[] w = {0.1f, 0.2f, 0.3f, 0.4f, 0.1f, 0.2f, 0.3f, 0.4f};
        LayerStats s = LayerStatistics.compute(w, 1, 8, new float[] {1f, 1f, 1f, 1f, 16f, 16f, 1f, 1f});
        // magnitude 2:4 prunes {0, 1, 4, 5}; Wanda metric .1 .2 .3 .4 .4 .8 .3 .4 prunes {0, 1, 6, 4}
        // (tie .4 at cols 4 and 7: col 4 first): cols 5 and 6 disagree
        assertEquals(0.75, s.masks().twoOfFour());
        // per row: magnitude prunes {0, 4, 1, 5}, Wanda {0, 1, 2, 6} (tie .3 at cols 2 and 6): 2, 4, 5, 6 disagree
        assertEquals(0.5, s.masks().row());
    }

    @Test
    void outlierRatiosCountValuesStrictlyAboveMTimesTheMean() {
        // metric 0 x8, 3, 7: mean 1, so 3 is not above 3 x mean, 7 is above 3 and 5 but not 7 x mean
        float[] w = {0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 3f, 7f};
        LayerStats s = LayerStatistics.compute(w, 1, 10, ones(10));
        assertEquals(new OutlierRatios(0.1, 0.1, 0), s.outliers());
    }

    @Test
    void oddCountMedianIsTheMiddleAndEvenTheLower() {
        float[] odd = {3f, -1f, 2f, 5f, 4f};
        assertEquals(3.0, LayerStatistics.compute(odd, 1, 5, ones(5)).weightAbs().summary().median());
        float[] even = {3f, -1f, 2f, 5f, 4f, 6f};
        assertEquals(3.0, LayerStatistics.compute(even, 2, 3, ones(3)).weightAbs().summary().median());
    }

    @Test
    void topFeaturesAreTheSixteenLargestNormsTiesByIndex() {
        float[] scaler = new float[40];
        for (int j = 0; j < 40; j++) {
            scaler[j] = (j * 7) % 10; // 0, 7, 4, 1, 8, 5, 2, 9, 6, 3, 0, ...
        }
        LayerStats s = LayerStatistics.compute(new float[40], 1, 40, scaler);
        assertArrayEquals(new int[] {7, 17, 27, 37, 4, 14, 24, 34, 1, 11, 21, 31, 8, 18, 28, 38},
                s.topActFeatures());
    }

    @Test
    void randomLayerMatchesANaiveImplementation() {
        assertMatchesNaive(64, 48, 21);
    }

    /**
     * Weights with low bits (float32 checkpoints): |W|'s second pass then revisits its rank buckets,
     * which bf16 weights (every other test) spare it.
     */
    @Test
    void float32WeightsMatchTheNaiveImplementation() {
        SplittableRandom random = new SplittableRandom(24);
        float[] w = new float[64 * 48];
        for (int k = 0; k < w.length; k++) {
            w[k] = k % 11 == 0 ? 0f : (float) (0.05 * random.nextGaussian());
        }
        float[] scaler = randomScalerRow(48, random);
        assertCloseToNaive(NaiveLayerStatistics.compute(w, 64, 48, scaler), LayerStatistics.compute(w, 64, 48, scaler),
                "float32 64x48");
    }

    @Test
    void rowsNotAMultipleOfFourMatchTheNaiveImplementation() {
        assertMatchesNaive(7, 10, 22);
        assertMatchesNaive(5, 3, 23);
    }

    @Test
    void randomLayerMatchesCPython() throws Exception {
        int out = 64;
        int in = 48;
        float[] w = randomWeights(out, in, new SplittableRandom(31));
        float[] scaler = randomScalerRow(in, new SplittableRandom(32));
        LayerStats s = LayerStatistics.compute(w, out, in, scaler);
        String script = String.join("\n",
                "import sys, math, struct, statistics",
                "lines = sys.stdin.read().strip().split('\\n')",
                "out, inn = map(int, lines[0].split())",
                "W = [float(t) for t in lines[1].split()]",
                "S = [float(t) for t in lines[2].split()]",
                "f32 = lambda x: struct.unpack('f', struct.pack('f', x))[0]",
                "act = [f32(math.sqrt(s)) for s in S]",
                "A = [abs(x) for x in W]",
                "M = [f32(A[i * inn + j] * act[j]) for i in range(out) for j in range(inn)]",
                "def summary(name, x):",
                "    q = statistics.quantiles(x, n=100, method='inclusive')",
                "    print(name, statistics.fmean(x), statistics.stdev(x), min(x), max(x),"
                        + " statistics.median_low(x), q[0], q[98])",
                "summary('abs', A); summary('act', act); summary('wanda', M)",
                // RIA: sums of |W| exact (fsum), then float32; a zero sum divides as 1; the rest float32 step by step
                "cs = [f32(math.fsum(A[i * inn + j] for i in range(out))) for j in range(inn)]",
                "rs = [f32(math.fsum(A[i * inn:(i + 1) * inn])) for i in range(out)]",
                "fac = [f32(math.sqrt(a)) for a in act]",
                "R = [f32(f32(f32(A[i * inn + j] / (cs[j] or 1.0)) + f32(A[i * inn + j] / (rs[i] or 1.0))) * fac[j])"
                        + " for i in range(out) for j in range(inn)]",
                "summary('ria', R)",
                "tr = sorted(R)[int(len(R) * 0.5)]",
                "def smallest(v, cols, k):",
                "    return set(sorted(cols, key=lambda j: v[j])[:k])",  // sorted() is stable
                "t = sorted(A)[int(len(A) * 0.5)]",
                "row = layer = nm = ria = 0",
                "for i in range(out):",
                "    a = A[i * inn:(i + 1) * inn]; m = M[i * inn:(i + 1) * inn]; r = R[i * inn:(i + 1) * inn]",
                "    wr = smallest(m, range(inn), int(inn * 0.5)); mr = smallest(a, range(inn), int(inn * 0.5))",
                "    w24 = set(); m24 = set()",
                "    for g in range(0, inn - inn % 4, 4):",
                "        w24 |= smallest(m, range(g, g + 4), 2); m24 |= smallest(a, range(g, g + 4), 2)",
                "    for j in range(inn):",
                "        row += (j in wr) == (j in mr); layer += (j in wr) == (a[j] <= t); nm += (j in w24) == (j in m24)",
                "        ria += (j in wr) == (r[j] <= tr)",   // RIA per layer against Wanda per row
                "n = len(A)",
                "print('masks', row / n, layer / n, nm / n, t)",
                "print('riamask', ria / n, tr)",
                "mean = statistics.fmean(M)",
                "print('outliers', *[sum(1 for x in M if x > k * mean) / n for k in (3, 5, 7)])",
                "print('top', *sorted(range(inn), key=lambda j: -act[j])[:16])");
        Map<String, double[]> py = ReferencePython.runNamedValues(script, out + " " + in + "\n" + ReferencePython.numbers(w) + "\n"
                + ReferencePython.numbers(scaler) + "\n");
        assertSummaryClose(py.get("abs"), s.weightAbs().summary());
        assertSummaryClose(py.get("act"), s.actNorm().summary());
        assertSummaryClose(py.get("wanda"), s.wanda().summary());
        double[] masks = py.get("masks");
        assertEquals(masks[0], s.masks().row());
        assertEquals(masks[1], s.masks().layer());
        assertEquals(masks[2], s.masks().twoOfFour());
        assertEquals(masks[3], s.masks().layerThreshold());
        assertSummaryClose(py.get("ria"), s.ria().summary());
        double[] ria = py.get("riamask");
        assertEquals(ria[0], s.masks().riaWanda());
        assertEquals(ria[1], s.masks().riaThreshold());
        assertFalse(ria[0] == 1.0, "RIA's mask and Wanda's differ somewhere, or the comparison tells nothing");
        double[] outliers = py.get("outliers");
        assertEquals(new OutlierRatios(outliers[0], outliers[1], outliers[2]), s.outliers());
        int[] top = java.util.Arrays.stream(py.get("top")).mapToInt(d -> (int) d).toArray();
        assertArrayEquals(top, s.topActFeatures());
    }

    /**
     * Shapes whose rows do not divide into the chunks (and one smaller than a chunk), with zeros
     * and ties: every pool size gives the calling thread's result, bit for bit.
     */
    @Test
    void poolsOfAnySizeGiveTheSequentialResultBitForBit() {
        int[][] shapes = {{103, 37, 5}, {64, 48, 7}, {50, 3, 1}, {9, 10, 4}, {1, 10, 3}};
        for (int[] shape : shapes) {
            int out = shape[0];
            int in = shape[1];
            int rowsPerChunk = shape[2];
            SplittableRandom random = new SplittableRandom(out * 1000L + in);
            float[] w = randomWeights(out, in, random);
            float[] scaler = randomScalerRow(in, random);
            LayerStats sequential = LayerStatistics.compute("x", w, out, in, scaler, null, rowsPerChunk);
            for (ForkJoinPool pool : pools) {
                assertIdentical(sequential, LayerStatistics.compute("x", w, out, in, scaler, pool, rowsPerChunk),
                        out + "x" + in + " in chunks of " + rowsPerChunk + " rows on " + pool.getParallelism() + " threads");
            }
        }
    }

    /** The public calls with the shape's own chunk size: 2500 x 999 is 2.4 chunks of 1049 rows. */
    @Test
    void thePublicPoolCallGivesTheSequentialResultBitForBit() {
        int out = 2500;
        int in = 999;
        SplittableRandom random = new SplittableRandom(41);
        float[] w = randomWeights(out, in, random);
        float[] scaler = randomScalerRow(in, random);
        LayerStats sequential = LayerStatistics.compute("big", w, out, in, scaler);
        for (ForkJoinPool pool : pools) {
            assertIdentical(sequential, LayerStatistics.compute("big", w, out, in, scaler, pool),
                    pool.getParallelism() + " threads");
        }
    }

    /**
     * The by-products against plain loops over the entries: counts of |W| * act_norm above
     * thresholds (some equal to entries' metrics, one between two floats, one negative) and block
     * maxima of |W| and of the metric, for row blocks that chunks of rows cut in two (chunks of 5
     * and 7 rows against blocks of 3 and 4) and blocks at the edges that are short; the statistics
     * themselves are those of a call without by-products.
     */
    @Test
    void byProductsMatchPlainLoopsWhateverTheChunks() {
        int[][] shapes = {{103, 37, 5, 3, 4}, {64, 48, 7, 4, 5}, {9, 10, 4, 9, 10}, {1, 10, 3, 1, 3}, {50, 3, 1, 7, 1}};
        for (int[] shape : shapes) {
            int out = shape[0];
            int in = shape[1];
            int rowsPerChunk = shape[2];
            int rowBlock = shape[3];
            int colBlock = shape[4];
            SplittableRandom random = new SplittableRandom(out * 31L + in);
            float[] w = randomWeights(out, in, random);
            float[] scaler = randomScalerRow(in, random);
            float[] actNorm = new float[in];
            for (int j = 0; j < in; j++) {
                actNorm[j] = (float) Math.sqrt(scaler[j]);
            }
            float entry = Math.abs(w[out * in / 2]) * actNorm[(out * in / 2) % in];
            float[] thresholds = {0f, entry, Math.nextUp(entry), 1e-3f, -1f, Float.MAX_VALUE};
            String at = out + "x" + in + " in chunks of " + rowsPerChunk + ", blocks " + rowBlock + "x" + colBlock;
            LayerStats plain = LayerStatistics.compute("x", w, out, in, scaler, null, rowsPerChunk);
            for (ForkJoinPool pool : new ForkJoinPool[] {null, pools[2]}) {
                LayerByProducts extra = new LayerByProducts().wandaAbove(thresholds).blockMaxima(rowBlock, colBlock);
                LayerStats s = LayerStatistics.compute("x", w, out, in, scaler, LayerStatistics.DEFAULT_SPARSITY, pool,
                        rowsPerChunk, null, extra);
                assertIdentical(plain, s, at);
                long[] above = new long[thresholds.length];
                for (int k = 0; k < w.length; k++) {
                    float metric = Math.abs(w[k]) * actNorm[k % in];
                    for (int t = 0; t < thresholds.length; t++) {
                        above[t] += metric > thresholds[t] ? 1 : 0;
                    }
                }
                assertArrayEquals(above, extra.wandaAboveCounts(), at);
                int rows = (out + rowBlock - 1) / rowBlock;
                int cols = (in + colBlock - 1) / colBlock;
                assertEquals(rows, extra.cellRows(), at);
                assertEquals(cols, extra.cellColumns(), at);
                float[] absCells = new float[rows * cols];
                float[] wandaCells = new float[rows * cols];
                Arrays.fill(absCells, Float.NEGATIVE_INFINITY);
                Arrays.fill(wandaCells, Float.NEGATIVE_INFINITY);
                for (int i = 0; i < out; i++) {
                    for (int j = 0; j < in; j++) {
                        int cell = i / rowBlock * cols + j / colBlock;
                        absCells[cell] = Math.max(absCells[cell], Math.abs(w[i * in + j]));
                        wandaCells[cell] = Math.max(wandaCells[cell], Math.abs(w[i * in + j]) * actNorm[j]);
                    }
                }
                assertArrayEquals(absCells, extra.absMaxima(), at);
                assertArrayEquals(wandaCells, extra.wandaMaxima(), at);
            }
        }
    }

    /** Reading before the statistics ran, or maxima not asked for, is an error, not zeros; no thresholds give no counts. */
    @Test
    void byProductsNotAskedForAreRefused() {
        LayerByProducts none = new LayerByProducts();
        IllegalStateException early = assertThrows(IllegalStateException.class, none::wandaAboveCounts);
        assertEquals("no counts yet: the statistics have not been computed with these by-products", early.getMessage());
        LayerStatistics.compute("x", new float[] {1f, -2f}, 1, 2, ones(2), 0.5, null, null, none);
        assertEquals(0, none.wandaAboveCounts().length);
        assertFalse(none.hasBlockMaxima());
        IllegalStateException e = assertThrows(IllegalStateException.class, none::absMaxima);
        assertEquals("no block maxima: not asked for, or the statistics not computed yet", e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> none.blockMaxima(0, 4));
        assertEquals("blocks must be at least 1 x 1, got 0 x 4", bad.getMessage());
    }

    @Test
    void smallChunksOnAPoolMatchTheNaiveImplementation() {
        int out = 61;
        int in = 24;
        SplittableRandom random = new SplittableRandom(42);
        float[] w = randomWeights(out, in, random);
        float[] scaler = randomScalerRow(in, random);
        assertCloseToNaive(NaiveLayerStatistics.compute(w, out, in, scaler),
                LayerStatistics.compute("x", w, out, in, scaler, pools[2], 4), out + "x" + in + " in chunks of 4 rows");
    }

    /**
     * The pruned rows of some columns under Wanda's row mask (what outlier features' pruned share is read from):
     * a stable sort's, at several sparsities (one pruning no entry of a short row), with ties on a
     * coarse grid and outlier channels, on the calling thread and in chunks on a pool.
     */
    @Test
    void prunedPerColumnIsTheStableSortsCountAtAnySparsity() {
        SplittableRandom rnd = new SplittableRandom(21);
        for (int trial = 0; trial < 120; trial++) {
            int out = 1 + rnd.nextInt(40);
            int in = 2 + rnd.nextInt(60);
            double sparsity = new double[] {0.5, 0.3, 0.7, 0.01}[trial % 4];
            float[] w = TiedLayers.weights(rnd, out * in, trial % 2 == 1);
            float[] scaler = TiedLayers.scalerRowWithOutliers(rnd, in);
            int[] expected = new int[in];
            for (int i = 0; i < out; i++) {
                int row = i;
                Integer[] order = new Integer[in];
                for (int j = 0; j < in; j++) {
                    order[j] = j;
                }
                Arrays.sort(order, java.util.Comparator.comparingDouble(
                        j -> Math.abs(w[row * in + j]) * (float) Math.sqrt(scaler[j])));
                for (int r = 0; r < (int) (in * sparsity); r++) {
                    expected[order[r]]++;
                }
            }
            String at = "trial " + trial + ": " + out + " x " + in + " at " + sparsity;
            // every column (added for all), or a few (counted row by row)
            int[] columns = trial % 3 == 0 ? java.util.stream.IntStream.range(0, in).toArray()
                    : rnd.ints(1 + rnd.nextInt(3), 0, in).distinct().toArray();
            int[] expectedRows = Arrays.stream(columns).map(c -> expected[c]).toArray();
            LayerByProducts one = new LayerByProducts().wandaPrunedRows(columns);
            LayerStatistics.compute("x", w, out, in, scaler, sparsity, null, null, one);
            assertArrayEquals(expectedRows, one.wandaPrunedRows(), at);
            LayerByProducts chunked = new LayerByProducts().wandaPrunedRows(columns);
            LayerStatistics.compute("x", w, out, in, scaler, sparsity, pools[2], 3, null, chunked);
            assertArrayEquals(expectedRows, chunked.wandaPrunedRows(), at + " in chunks");
        }
    }

    /** Two bad weights in different chunks: the first in row order is reported, as by the sequential call. */
    @Test
    void aBadWeightIsReportedAsOnTheCallingThread() {
        float[] w = new float[12 * 3];
        w[7 * 3 + 1] = Float.POSITIVE_INFINITY;   // row 7, chunk 3
        w[10 * 3 + 2] = Float.NaN;                // row 10, chunk 5
        String expected = "layer blk.0: weight entry [7, 1] is Infinity; statistics of a non-finite weight are"
                + " meaningless. The checkpoint file is damaged or was saved from a diverged model: download it"
                + " again or check its source.";
        assertEquals(expected, assertThrows(LayerscopeException.class,
                () -> LayerStatistics.compute("blk.0", w, 12, 3, ones(3), null, 2)).getMessage());
        for (ForkJoinPool pool : pools) {
            assertEquals(expected, assertThrows(LayerscopeException.class,
                    () -> LayerStatistics.compute("blk.0", w, 12, 3, ones(3), pool, 2)).getMessage());
        }
    }

    @Test
    void rejectsAWeightOfTheWrongSize() {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> LayerStatistics.compute("model.layers.0.mlp.up_proj", new float[10], 4, 3, new float[3]));
        assertEquals("layer model.layers.0.mlp.up_proj: the weight has 10 values but its shape [out, in] = [4, 3]"
                + " needs 12 (and both must be positive). Check that the tensor read matches the layer's shape in"
                + " the checkpoint.", e.getMessage());
    }

    @Test
    void rejectsAScalerRowOfTheWrongLength() {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> LayerStatistics.compute("lm_head", new float[6], 2, 3, new float[4]));
        assertEquals("layer lm_head: scaler_row has 4 values but the layer has in_features = 3. The activation"
                + " sums belong to a different tap; check the layer-to-tap mapping.", e.getMessage());
    }

    @Test
    void rejectsANonFiniteWeight() {
        float[] w = {1f, 2f, 3f, Float.NaN};
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> LayerStatistics.compute("model.layers.3.self_attn.q_proj", w, 2, 2, ones(2)));
        assertEquals("layer model.layers.3.self_attn.q_proj: weight entry [1, 1] is NaN; statistics of a"
                + " non-finite weight are meaningless. The checkpoint file is damaged or was saved from a diverged"
                + " model: download it again or check its source.", e.getMessage());
        w[3] = Float.NEGATIVE_INFINITY;
        assertThrows(LayerscopeException.class, () -> LayerStatistics.compute(w, 2, 2, ones(2)));
    }

    @Test
    void rejectsANonFiniteOrNegativeScalerRow() {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> LayerStatistics.compute(new float[2], 1, 2, new float[] {1f, Float.POSITIVE_INFINITY}));
        assertEquals("layer (unnamed): scaler_row[1] is Infinity, but a mean of squared activations must be finite"
                + " and non-negative. The calibration forward pass overflowed or produced NaN (from a non-finite"
                + " weight, or an overflow).", e.getMessage());
        assertThrows(LayerscopeException.class,
                () -> LayerStatistics.compute(new float[2], 1, 2, new float[] {-1f, 1f}));
    }

    @Test
    void resultArraysAreCopies() {
        LayerStats s = LayerStatistics.compute(new float[] {1f, 2f}, 1, 2, ones(2));
        s.activationNorms()[0] = 9f;
        s.topActFeatures()[0] = 9;
        s.weightAbs().histogram().counts()[0] = 9;
        assertEquals(1f, s.activationNorms()[0]);
        assertEquals(0, s.topActFeatures()[0]);
        assertEquals(0, s.weightAbs().histogram().counts()[0]);
    }

    private static void assertMatchesNaive(int out, int in, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] w = randomWeights(out, in, random);
        float[] scaler = randomScalerRow(in, random);
        assertCloseToNaive(NaiveLayerStatistics.compute(w, out, in, scaler), LayerStatistics.compute(w, out, in, scaler),
                out + "x" + in);
    }

    private static void assertCloseToNaive(LayerStats expected, LayerStats actual, String at) {
        assertEquals(expected.outFeatures(), actual.outFeatures());
        assertEquals(expected.inFeatures(), actual.inFeatures());
        assertDistributionClose(expected.weightAbs(), actual.weightAbs(), at + " |W|");
        assertDistributionClose(expected.actNorm(), actual.actNorm(), at + " act");
        assertDistributionClose(expected.wanda(), actual.wanda(), at + " wanda");
        assertDistributionClose(expected.ria(), actual.ria(), at + " ria");
        assertEquals(expected.masks(), actual.masks(), at);
        assertEquals(expected.outliers(), actual.outliers(), at);
        assertArrayEquals(expected.topActFeatures(), actual.topActFeatures(), at);
        assertArrayEquals(expected.activationNorms(), actual.activationNorms(), at);
    }

    /** Every field, exactly (assertEquals on doubles compares their bits). */
    private static void assertIdentical(LayerStats expected, LayerStats actual, String at) {
        assertEquals(expected.outFeatures(), actual.outFeatures(), at);
        assertEquals(expected.inFeatures(), actual.inFeatures(), at);
        assertEquals(expected.weightAbs().summary(), actual.weightAbs().summary(), at + " |W| summary");
        assertEquals(expected.actNorm().summary(), actual.actNorm().summary(), at + " act summary");
        assertEquals(expected.wanda().summary(), actual.wanda().summary(), at + " wanda summary");
        assertEquals(expected.weightAbs().summary().mean(), actual.weightAbs().summary().mean(), at + " |W| mean");
        assertEquals(expected.wanda().summary().std(), actual.wanda().summary().std(), at + " wanda std");
        assertEquals(expected.weightAbs().histogram(), actual.weightAbs().histogram(), at + " |W| histogram");
        assertEquals(expected.actNorm().histogram(), actual.actNorm().histogram(), at + " act histogram");
        assertEquals(expected.wanda().histogram(), actual.wanda().histogram(), at + " wanda histogram");
        assertEquals(expected.ria().histogram(), actual.ria().histogram(), at + " ria histogram");
        assertEquals(expected.masks(), actual.masks(), at + " masks");
        assertEquals(expected.outliers(), actual.outliers(), at + " outliers");
        assertArrayEquals(expected.topActFeatures(), actual.topActFeatures(), at + " top features");
        assertArrayEquals(expected.activationNorms(), actual.activationNorms(), at + " activation norms");
        assertEquals(expected, actual, at);
    }

    /** bf16-rounded Gaussian weights with exact zeros and repeats, so masks meet ties. */
    private static float[] randomWeights(int out, int in, SplittableRandom random) {
        float[] w = new float[out * in];
        for (int k = 0; k < w.length; k++) {
            float g = (float) (0.05 * random.nextGaussian());
            w[k] = k % 11 == 0 ? 0f : Float.intBitsToFloat(Float.floatToRawIntBits(g) & 0xffff0000);
        }
        return w;
    }

    /** Spread over decades, with some equal features and one silent one. */
    private static float[] randomScalerRow(int in, SplittableRandom random) {
        float[] s = new float[in];
        for (int j = 0; j < in; j++) {
            s[j] = j % 7 == 3 ? 4f : (float) Math.exp(6 * random.nextGaussian());
        }
        s[in / 2] = 0f;
        return s;
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }

    private static void assertSummary(Summary s, long count, double mean, double min, double max, double median,
                                      double p01, double p99) {
        assertEquals(count, s.count());
        assertEquals(mean, s.mean(), 1e-15);
        assertEquals(min, s.min());
        assertEquals(max, s.max());
        assertEquals(median, s.median());
        assertEquals(p01, s.p01(), 1e-15);
        assertEquals(p99, s.p99(), 1e-14);
    }

    private static void assertSummaryClose(double[] expected, Summary s) {
        assertEquals(expected[0], s.mean(), 1e-12 * s.mean());
        assertEquals(expected[1], s.std(), 1e-10 * s.std());
        assertEquals(expected[2], s.min());
        assertEquals(expected[3], s.max());
        assertEquals(expected[4], s.median());
        assertEquals(expected[5], s.p01(), 1e-12 * s.p01());
        assertEquals(expected[6], s.p99(), 1e-12 * s.p99());
    }

    private static void assertDistributionClose(Distribution expected, Distribution actual, String at) {
        Summary e = expected.summary();
        Summary a = actual.summary();
        assertEquals(e.count(), a.count(), at);
        assertEquals(e.mean(), a.mean(), 1e-12 * Math.abs(e.mean()), at);
        assertEquals(e.std(), a.std(), 1e-10 * e.std(), at);
        assertEquals(e.min(), a.min(), at);
        assertEquals(e.max(), a.max(), at);
        assertEquals(e.median(), a.median(), at);
        assertEquals(e.p01(), a.p01(), 1e-12 * e.p01(), at);
        assertEquals(e.p99(), a.p99(), 1e-12 * e.p99(), at);
        assertEquals(expected.histogram(), actual.histogram(), at);
    }
}
