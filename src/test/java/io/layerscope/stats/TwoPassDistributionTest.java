package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.fixtures.ReferencePython;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class TwoPassDistributionTest {

    /**
     * Summary statistics by CPython's statistics module (stdev divides by n-1, median_low,
     * inclusive quantiles interpolate linearly as torch.quantile), one input line per data set.
     */
    private static final String PYTHON_SUMMARY = String.join("\n",
            "import sys, statistics",
            "for i, line in enumerate(sys.stdin.read().strip().split('\\n')):",
            "    x = [float(t) for t in line.split()]",
            "    q = statistics.quantiles(x, n=100, method='inclusive')",
            "    print(i, statistics.fmean(x), statistics.stdev(x), min(x), max(x), statistics.median_low(x), q[0], q[98])");

    @Test
    void medianOfAnOddCountIsTheMiddleValue() {
        Summary s = distribution(5f, 1f, 4f, 2f, 3f).summary();
        assertEquals(3.0, s.median());
        assertEquals(1.0, s.min());
        assertEquals(5.0, s.max());
        assertEquals(3.0, s.mean());
        assertEquals(Math.sqrt(2.5), s.std(), 1e-15); // (4+1+0+1+4) / (5-1)
    }

    @Test
    void medianOfAnEvenCountIsTheLowerMiddleValue() {
        assertEquals(2.0, distribution(4f, 1f, 3f, 2f).summary().median());
        assertEquals(0.25, distribution(1f, 0.25f, 0.5f, 0f, 0.25f, 0.5f).summary().median());
    }

    @Test
    void quantilesInterpolateLinearlyBetweenNeighbouringRanks() {
        // sorted 0, .125, .25, .25, .25, .5, .5, 1: p01 at rank 0.07, p99 at rank 6.93
        Summary s = distribution(0.5f, 0.25f, 0.125f, 1f, 0.25f, 0.25f, 0.5f, 0f).summary();
        assertEquals(0.00875, s.p01(), 1e-15);
        assertEquals(0.965, s.p99(), 1e-15);
    }

    @Test
    void aSingleValueHasNoSampleStd() {
        Summary s = distribution(0.75f).summary();
        assertEquals(1, s.count());
        assertTrue(Double.isNaN(s.std()));
        assertEquals(0.75, s.median());
        assertEquals(0.75, s.p01());
        assertEquals(0.75, s.p99());
    }

    @Test
    void summariesMatchCPythonStatistics() throws Exception {
        SplittableRandom random = new SplittableRandom(11);
        int[] sizes = {2, 3, 7, 100, 101, 4097};
        float[][] sets = new float[sizes.length][];
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < sizes.length; i++) {
            sets[i] = new float[sizes[i]];
            for (int k = 0; k < sizes[i]; k++) {
                // mixed magnitudes, a share of bf16-like ties and exact zeros
                float v = (float) Math.exp(6 * random.nextDouble() - 4);
                sets[i][k] = k % 5 == 0 ? Float.intBitsToFloat(Float.floatToRawIntBits(v) & 0xffff0000)
                        : k % 17 == 0 ? 0f : v;
            }
            input.append(ReferencePython.numbers(sets[i])).append('\n');
        }
        Map<String, double[]> py = ReferencePython.runNamedValues(PYTHON_SUMMARY, input.toString());
        for (int i = 0; i < sizes.length; i++) {
            Summary s = distribution(sets[i]).summary();
            double[] expected = py.get(Integer.toString(i));
            String at = "n=" + sizes[i];
            assertEquals(sizes[i], s.count(), at);
            assertEquals(expected[0], s.mean(), 1e-12 * s.mean(), at);
            assertEquals(expected[1], s.std(), 1e-10 * s.std(), at);
            assertEquals(expected[2], s.min(), at);
            assertEquals(expected[3], s.max(), at);
            assertEquals(expected[4], s.median(), at);
            assertEquals(expected[5], s.p01(), 1e-12 * s.p01(), at);
            assertEquals(expected[6], s.p99(), 1e-12 * s.p99(), at);
        }
    }

    @Test
    void everyRequestedRankMatchesAFullSort() {
        SplittableRandom random = new SplittableRandom(5);
        int n = 200_000;
        float[] values = new float[n];
        for (int k = 0; k < n; k++) {
            double g = random.nextDouble();
            // several values per top-16-bit bucket, so the second-pass low bits decide
            values[k] = k % 3 == 0 ? (float) (g * 1e-3) : (float) Math.abs(Math.tan(3 * g));
        }
        float[] sorted = values.clone();
        Arrays.sort(sorted);
        long[] ranks = {0, 1, 17, n / 3, n / 2, n / 2 + 1, n - 2, n - 1};
        TwoPassDistribution d = new TwoPassDistribution(LogBins.STANDARD);
        d.add(values, 0, n / 2);
        d.add(values, n / 2, n);
        d.startSecondPass(ranks, new double[] {0.5, 2.0});
        d.revisit(values, 0, 1000);
        d.revisit(values, 1000, n);
        for (long r : ranks) {
            assertEquals(sorted[(int) r], d.valueAtRank(r), "rank " + r);
        }
        long aboveHalf = 0;
        long aboveTwo = 0;
        for (float v : values) {
            aboveHalf += v > 0.5 ? 1 : 0;
            aboveTwo += v > 2.0 ? 1 : 0;
        }
        assertEquals(aboveHalf, d.countAbove(0));
        assertEquals(aboveTwo, d.countAbove(1));
        assertEquals(sorted[(n - 1) / 2], d.distribution().summary().median());
    }

    /**
     * Counts above thresholds come from the buckets above each threshold's and the low bits of its
     * own: checked against {@code v > t} (the float widened) for thresholds on, between and around
     * the values, in buckets with and without values, and at the ends of the range.
     */
    @Test
    void countsAboveThresholdsEqualPlainComparisons() {
        SplittableRandom random = new SplittableRandom(11);
        int n = 50_000;
        float[] values = new float[n];
        for (int k = 0; k < n; k++) {
            // bf16-like values (many ties, whole buckets of one value), exact zeros and the largest float
            float g = (float) Math.abs(random.nextGaussian() * 0.02);
            values[k] = k % 97 == 0 ? 0f : k % 1009 == 0 ? Float.MAX_VALUE
                    : k % 2 == 0 ? Float.intBitsToFloat(Float.floatToRawIntBits(g) & 0xffff0000) : g;
        }
        float tie = values[2];   // a value many entries share
        double[] thresholds = {-1, -0.0, 0, Double.MIN_VALUE, Float.MIN_VALUE, tie, Math.nextUp((double) tie),
                Math.nextDown((double) tie), Math.nextUp(tie), 0.01, 0.0123456789, 1e-30, 3 * 0.02 * 0.8,
                Float.MAX_VALUE, Math.nextUp((double) Float.MAX_VALUE), 1e300, Double.POSITIVE_INFINITY, Double.NaN};
        TwoPassDistribution d = new TwoPassDistribution(LogBins.STANDARD);
        d.add(values, 0, n);
        d.startSecondPass(new long[0], thresholds);
        for (int k = 0; k < n; k++) {
            d.revisitBits(Float.floatToRawIntBits(values[k]));
        }
        d.addSquaredDeviations(0, n);
        for (int t = 0; t < thresholds.length; t++) {
            long above = 0;
            for (float v : values) {
                above += v > thresholds[t] ? 1 : 0;
            }
            assertEquals(above, d.countAbove(t), "above " + thresholds[t]);
        }
    }

    @Test
    void histogramPlacesValuesOnEdgesIntoTheBinTheyOpen() {
        double edge81 = LogBins.STANDARD.edges()[81]; // 10^(1/8), inside a 16-bit bucket of floats
        float fromEdge = (float) edge81 >= edge81 ? (float) edge81 : Math.nextUp((float) edge81);
        float belowEdge = Math.nextDown(fromEdge);
        Histogram h = distribution(0f, 1e-12f, 0.5f, Math.nextDown(1f), 1f, 10f, belowEdge, fromEdge, 1e6f, 2e7f,
                Math.nextDown(1e6f)).histogram();
        long[] expected = new long[128];
        expected[0] = 2;      // 0 and 1e-12, below 1e-10
        expected[77] = 1;     // 0.5: 10^-0.375 <= 0.5 < 10^-0.25
        expected[79] = 1;     // just below 1
        expected[80] = 2;     // 1 opens bin 80; just below 10^(1/8)
        expected[81] = 1;     // 10^(1/8)
        expected[88] = 1;     // 10 opens bin 88
        expected[127] = 3;    // just below 1e6; 1e6 and 2e7 folded in
        assertArrayEquals(expected, h.counts());
        assertEquals(2, h.underflow());
        assertEquals(2, h.overflow());
        assertEquals(11, h.total());
        assertArrayEquals(LogBins.STANDARD.edges(), h.edges());
    }

    @Test
    void negativeZeroCountsAsZero() {
        Summary s = distribution(-0f, 1f, 2f).summary();
        assertEquals(0.0, s.min());
        assertEquals(1.0, s.median());
    }

    @Test
    void passesMustComeInOrder() {
        TwoPassDistribution d = new TwoPassDistribution(LogBins.STANDARD);
        float[] one = {1f};
        assertThrows(IllegalStateException.class, () -> d.revisit(one, 0, 1));
        assertThrows(IllegalStateException.class, () -> d.startSecondPass(new long[0], new double[0]));
        d.add(one, 0, 1);
        d.startSecondPass(new long[0], new double[0]);
        assertThrows(IllegalStateException.class, d::distribution);
        assertThrows(IllegalStateException.class, () -> d.add(one, 0, 1));
        d.revisit(one, 0, 1);
        assertEquals(1f, d.valueAtRank(0)); // the summary's ranks are always requested
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.valueAtRank(3));
        assertEquals("rank 3 was not requested before the second pass", e.getMessage());
    }

    /**
     * Uneven slices counted into parts and merged in order give exact order statistics, counts
     * above thresholds and histogram counts, checked against a sorted copy and plain loops.
     */
    @Test
    void mergedPartsMatchASortedCopyAndPlainCounts() {
        mergedPartsMatchASortedCopyAndPlainCounts(false);
    }

    /**
     * The same with every value's low 16 bits zero (bf16 values widened): then the first pass
     * already pins the ranks, the thresholds' counts and the split buckets' bins, and the second
     * pass looks nothing up.
     */
    @Test
    void valuesWithoutLowBitsNeedNoSecondPassLookUps() {
        mergedPartsMatchASortedCopyAndPlainCounts(true);
    }

    private static void mergedPartsMatchASortedCopyAndPlainCounts(boolean bf16Only) {
        SplittableRandom random = new SplittableRandom(8);
        int n = 50_001;
        float[] values = new float[n];
        for (int k = 0; k < n; k++) {
            float v = (float) Math.exp(40 * random.nextDouble() - 26); // 5e-12 .. 1.2e6
            // exact zeros, bf16-like ties, values beyond the last edge (1e6)
            values[k] = k % 13 == 0 ? 0f : bf16Only || k % 3 == 0
                    ? Float.intBitsToFloat(Float.floatToRawIntBits(v) & 0xffff0000) : v;
        }
        int[] cuts = {0, 1, 777, 20_000, 20_001, 49_000, n};
        long[] ranks = {0, 5, 12_345, n / 2, 40_000, n - 1};
        double[] thresholds = {0, 1e-3, 1};

        TwoPassDistribution merged = new TwoPassDistribution(LogBins.STANDARD);
        for (int c = 0; c + 1 < cuts.length; c++) {
            TwoPassDistribution part = new TwoPassDistribution(LogBins.STANDARD);
            part.add(values, cuts[c], cuts[c + 1]);
            merged.merge(part);
        }
        merged.startSecondPass(ranks, thresholds);
        for (int c = cuts.length - 2; c >= 0; c--) { // the second pass in another order
            TwoPassDistribution part = merged.secondPassPart();
            part.revisit(values, cuts[c], cuts[c + 1]);
            merged.merge(part);
        }

        float[] sorted = values.clone();
        Arrays.sort(sorted);
        for (long r : ranks) {
            assertEquals(sorted[(int) r], merged.valueAtRank(r), "rank " + r);
        }
        for (int t = 0; t < thresholds.length; t++) {
            long above = 0;
            for (float v : values) {
                above += v > thresholds[t] ? 1 : 0;
            }
            assertEquals(above, merged.countAbove(t), "above " + thresholds[t]);
        }
        Distribution d = merged.distribution();
        Summary s = d.summary();
        assertEquals(n, s.count());
        assertEquals(sorted[0], s.min());
        assertEquals(sorted[n - 1], s.max());
        assertEquals(sorted[(n - 1) / 2], s.median());
        double sum = 0;
        for (float v : values) {
            sum += v;
        }
        double mean = sum / n;
        double squares = 0;
        for (float v : values) {
            squares += (v - mean) * (v - mean);
        }
        assertEquals(mean, s.mean(), 1e-12 * mean);
        assertEquals(Math.sqrt(squares / (n - 1)), s.std(), 1e-10 * s.std());

        double[] edges = LogBins.STANDARD.edges();
        long[] counts = new long[edges.length - 1];
        long under = 0;
        long over = 0;
        for (float v : values) {
            int bin = 0;
            while (bin + 1 < edges.length && edges[bin + 1] <= v) {
                bin++;
            }
            under += v < edges[0] ? 1 : 0;
            over += bin == edges.length - 1 ? 1 : 0;
            counts[Math.min(bin, counts.length - 1)]++;
        }
        assertArrayEquals(counts, d.histogram().counts());
        assertEquals(under, d.histogram().underflow());
        assertEquals(over, d.histogram().overflow());
        assertTrue(under > 0 && over > 0, "the data reaches both folds");
    }

    /** A part holding one slice adds its sum as one more slice would: the same bits as one instance. */
    @Test
    void mergingOneSlicePartsInOrderEqualsAddingTheSlicesToOneInstance() {
        SplittableRandom random = new SplittableRandom(9);
        float[] values = new float[10_007];
        for (int k = 0; k < values.length; k++) {
            values[k] = (float) (random.nextDouble() * random.nextDouble());
        }
        int[] cuts = {0, 3, 4000, 4001, 9999, values.length};
        TwoPassDistribution one = new TwoPassDistribution(LogBins.STANDARD);
        TwoPassDistribution merged = new TwoPassDistribution(LogBins.STANDARD);
        for (int c = 0; c + 1 < cuts.length; c++) {
            one.add(values, cuts[c], cuts[c + 1]);
            TwoPassDistribution part = new TwoPassDistribution(LogBins.STANDARD);
            part.add(values, cuts[c], cuts[c + 1]);
            merged.merge(part);
        }
        double[] thresholds = {0.25};
        one.startSecondPass(new long[] {17}, thresholds);
        merged.startSecondPass(new long[] {17}, thresholds);
        for (int c = 0; c + 1 < cuts.length; c++) {
            one.revisit(values, cuts[c], cuts[c + 1]);
            TwoPassDistribution part = merged.secondPassPart();
            part.revisit(values, cuts[c], cuts[c + 1]);
            merged.merge(part);
        }
        assertEquals(one.distribution(), merged.distribution());
        assertEquals(one.valueAtRank(17), merged.valueAtRank(17));
        assertEquals(one.countAbove(0), merged.countAbove(0));
    }

    @Test
    void mergeTakesOnlyPartsOfTheSamePass() {
        float[] one = {1f};
        TwoPassDistribution d = new TwoPassDistribution(LogBins.STANDARD);
        d.add(one, 0, 1);
        IllegalArgumentException self = assertThrows(IllegalArgumentException.class, () -> d.merge(d));
        assertEquals("cannot merge a distribution into itself", self.getMessage());
        assertThrows(IllegalStateException.class, d::secondPassPart);

        TwoPassDistribution other = new TwoPassDistribution(LogBins.STANDARD);
        other.add(one, 0, 1);
        other.startSecondPass(new long[0], new double[0]);
        IllegalArgumentException first = assertThrows(IllegalArgumentException.class, () -> d.merge(other));
        assertEquals("first pass: merge a first-pass distribution with the same bins", first.getMessage());

        d.startSecondPass(new long[0], new double[0]);
        IllegalArgumentException second = assertThrows(IllegalArgumentException.class,
                () -> d.merge(other.secondPassPart()));
        assertEquals("second pass: merge a part made by this distribution's secondPassPart()", second.getMessage());
        TwoPassDistribution part = d.secondPassPart();
        part.revisit(one, 0, 1);
        d.merge(part);
        assertEquals(1f, d.valueAtRank(0));
    }

    @Test
    void aMergedPartTakesNoPartInAnotherMerge() {
        float[] values = {1f, 2f, 3f};
        TwoPassDistribution d = new TwoPassDistribution(LogBins.STANDARD);
        TwoPassDistribution first = new TwoPassDistribution(LogBins.STANDARD);
        first.add(values, 0, 3);
        d.merge(first);
        IllegalStateException again = assertThrows(IllegalStateException.class, () -> d.merge(first));
        assertEquals("a distribution already merged or released takes no part in a merge", again.getMessage());

        d.startSecondPass(new long[0], new double[0]);
        TwoPassDistribution part = d.secondPassPart();
        part.revisit(values, 0, 3);
        d.merge(part);
        assertThrows(IllegalStateException.class, () -> d.merge(part));
        assertEquals(2f, d.distribution().summary().median());
        d.release();
        d.release(); // a second release gives nothing back twice
        assertThrows(IllegalStateException.class, () -> new TwoPassDistribution(LogBins.STANDARD).merge(d));
    }

    private static Distribution distribution(float... values) {
        TwoPassDistribution d = new TwoPassDistribution(LogBins.STANDARD);
        d.add(values, 0, values.length);
        d.startSecondPass(new long[0], new double[0]);
        d.revisit(values, 0, values.length);
        return d.distribution();
    }
}
