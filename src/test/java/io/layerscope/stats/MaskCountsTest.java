package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MaskCountsTest {

    /**
     * Random rows (few distinct values, so many ties at both thresholds; or spread values; row
     * lengths not all multiples of four, some longer than a tile; sparsities from none to all),
     * counted by two instances and merged, against masks from stable sorts of each row, of each
     * group of four and of the whole layer.
     */
    @Test
    void matchesMasksFromPlainSorts() {
        SplittableRandom random = new SplittableRandom(5);
        // the last: rows longer than two of countRow's tiles, ending in a short group
        int[][] shapes = {{13, 8}, {9, 10}, {20, 7}, {1, 1}, {6, 64}, {30, 3}, {4, 2 * MaskCounts.TILE + 6}};
        for (int[] shape : shapes) {
            // sparsities 0 and 1: rows that prune none or all (a cut at no column or at the last)
            for (int config = 0; config < 4; config++) {
                int kind = config % 2;
                int out = shape[0];
                int in = shape[1];
                double sparsity = new double[] {0.5, 0.3, 0, 1}[config];
                float[] abs = values(random, kind, out * in);
                float[] wanda = values(random, kind, out * in);
                float[] ria = values(random, 1 - kind, out * in);
                float layerThreshold = sorted(abs)[Math.min((int) (abs.length * sparsity), abs.length - 1)];
                float riaThreshold = sorted(ria)[Math.min((int) (ria.length * sparsity), ria.length - 1)];

                // every column (added for all), or a few, counted row by row (the last, first and a middle one)
                int[] columns = config % 2 == 0 ? java.util.stream.IntStream.range(0, in).toArray()
                        : java.util.stream.IntStream.of(in - 1, 0, in / 2).distinct().toArray();
                MaskCounts counts = new MaskCounts(in, sparsity, Float.floatToRawIntBits(layerThreshold) >>> 16,
                        Float.floatToRawIntBits(riaThreshold) >>> 16, columns);
                MaskCounts other = counts.emptyPart();
                for (int i = 0; i < out; i++) {
                    MaskCounts part = i % 3 == 1 ? other : counts;
                    for (int j = 0; j < in; j++) {
                        part.absBits()[j] = Float.floatToRawIntBits(abs[i * in + j]);
                        part.wandaBits()[j] = Float.floatToRawIntBits(wanda[i * in + j]);
                        part.riaBits()[j] = Float.floatToRawIntBits(ria[i * in + j]);
                    }
                    part.countRow();
                }
                counts.merge(other);

                int k = (int) (in * sparsity);
                long row = 0;
                long layer = 0;
                long twoOfFour = 0;
                long layerPruned = 0;
                long riaWanda = 0;
                int[] prunedPerColumn = new int[in];
                for (int i = 0; i < out; i++) {
                    float[] a = Arrays.copyOfRange(abs, i * in, i * in + in);
                    float[] m = Arrays.copyOfRange(wanda, i * in, i * in + in);
                    boolean[] wandaRow = smallest(m, k);
                    boolean[] magnitudeRow = smallest(a, k);
                    boolean[] wanda24 = new boolean[in];
                    boolean[] magnitude24 = new boolean[in];
                    for (int g = 0; g + 4 <= in; g += 4) {
                        System.arraycopy(smallest(Arrays.copyOfRange(m, g, g + 4), 2), 0, wanda24, g, 4);
                        System.arraycopy(smallest(Arrays.copyOfRange(a, g, g + 4), 2), 0, magnitude24, g, 4);
                    }
                    for (int j = 0; j < in; j++) {
                        boolean layerMask = a[j] <= layerThreshold;
                        boolean riaMask = ria[i * in + j] <= riaThreshold;
                        row += wandaRow[j] == magnitudeRow[j] ? 1 : 0;
                        layer += wandaRow[j] == layerMask ? 1 : 0;
                        twoOfFour += wanda24[j] == magnitude24[j] ? 1 : 0;
                        layerPruned += layerMask ? 1 : 0;
                        riaWanda += wandaRow[j] == riaMask ? 1 : 0;
                        prunedPerColumn[j] += wandaRow[j] ? 1 : 0;
                    }
                }
                double n = out * in;
                assertEquals(new MaskAgreement(sparsity, row / n, layer / n, twoOfFour / n, layerThreshold, layerPruned / n,
                                riaWanda / n, riaThreshold), counts.agreement(sparsity, layerThreshold, riaThreshold),
                        out + "x" + in + ", kind " + kind + ", sparsity " + sparsity);
                assertArrayEquals(java.util.Arrays.stream(columns).map(c -> prunedPerColumn[c]).toArray(),
                        counts.wandaPrunedRows(), out + "x" + in + ", kind " + kind + ", sparsity " + sparsity
                                + ": pruned rows of " + columns.length + " columns");
            }
        }
    }

    /**
     * Every group of four values from {0, 1, 2, 3} (all orders, all ties) against every other:
     * agreement of stable-sort 2:4 masks, a pair at a time and as rows of all 256 groups (long
     * enough for the JIT's vector loop).
     */
    @Test
    void twoOfFourAgreementOfEveryPairOfGroups() {
        int[] expectedInRow = new int[256];
        for (int gx = 0; gx < 256; gx++) {
            float[] x = group(gx);
            boolean[] maskX = smallest(x, 2);
            for (int gy = 0; gy < 256; gy++) {
                float[] y = group(gy);
                boolean[] maskY = smallest(y, 2);
                int expected = 0;
                for (int t = 0; t < 4; t++) {
                    expected += maskX[t] == maskY[t] ? 1 : 0;
                }
                // a fifth entry: the short trailing group, unpruned under both
                assertEquals(expected + 1, MaskCounts.sameTwoOfFour(bits(x, 1f), bits(y, 2f), 0, 5, new int[8][1]),
                        Arrays.toString(x) + " vs " + Arrays.toString(y));
                expectedInRow[gy] += expected;
            }
        }
        for (int gy = 0; gy < 256; gy++) {
            int[] x = new int[4 * 256 + 3];
            int[] y = new int[x.length];
            for (int g = 0; g < 256; g++) {
                System.arraycopy(bits(group(g), 0f), 0, x, 4 * g, 4);
                System.arraycopy(bits(group(gy), 0f), 0, y, 4 * g, 4);
            }
            assertEquals(expectedInRow[gy] + 3, MaskCounts.sameTwoOfFour(x, y, 0, x.length, new int[8][256]), "row against " + gy);
        }
    }

    private static float[] group(int digits) {
        return new float[] {digits & 3, digits >> 2 & 3, digits >> 4 & 3, digits >> 6 & 3};
    }

    private static int[] bits(float[] group, float fifth) {
        int[] bits = new int[5];
        for (int t = 0; t < 4; t++) {
            bits[t] = Float.floatToRawIntBits(group[t]);
        }
        bits[4] = Float.floatToRawIntBits(fifth);
        return bits;
    }

    @Test
    void refusesThresholdsOutsideTheBucketsCounted() {
        MaskCounts counts = new MaskCounts(2, 0.5, Float.floatToRawIntBits(1f) >>> 16, Float.floatToRawIntBits(2f) >>> 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> counts.agreement(0.5, 1f, 3f));
        assertEquals("thresholds 1.0, 3.0 outside the buckets counted", e.getMessage());
    }

    @Test
    void aMergedPartTakesNoPartInAnotherMerge() {
        MaskCounts counts = new MaskCounts(2, 0.5, Float.floatToRawIntBits(1f) >>> 16, Float.floatToRawIntBits(2f) >>> 16);
        MaskCounts part = counts.emptyPart();
        counts.merge(part);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> counts.merge(part));
        assertEquals("counts already merged or released take no part in a merge", e.getMessage());
        counts.release();
        counts.release(); // a second release gives nothing back twice
    }

    /**
     * Kind 0: quarters from 0 to 1.5 (ties), some moved up by one or two floats (the same bucket,
     * just above a threshold at a quarter); 1: spread over six powers of ten.
     */
    private static float[] values(SplittableRandom random, int kind, int n) {
        float[] v = new float[n];
        for (int e = 0; e < n; e++) {
            if (kind == 0) {
                v[e] = random.nextInt(7) * 0.25f;
                for (int up = random.nextInt(6) - 3; up > 0; up--) {
                    v[e] = Math.nextUp(v[e]);
                }
            } else {
                v[e] = (float) Math.exp(14 * random.nextDouble() - 7);
            }
        }
        return v;
    }

    private static float[] sorted(float[] v) {
        float[] s = v.clone();
        Arrays.sort(s);
        return s;
    }

    /** The k smallest by Java's stable object sort: equal values prune the lower column first. */
    private static boolean[] smallest(float[] v, int k) {
        Integer[] order = new Integer[v.length];
        for (int j = 0; j < order.length; j++) {
            order[j] = j;
        }
        Arrays.sort(order, Comparator.comparingDouble(j -> v[j]));
        boolean[] mask = new boolean[v.length];
        for (int r = 0; r < k; r++) {
            mask[order[r]] = true;
        }
        return mask;
    }
}
