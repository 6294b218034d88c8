package io.layerscope.prune;

import io.layerscope.LayerscopeException;
import java.util.Arrays;

/**
 * OWL's per-block sparsities (luuyin/OWL, lib/prune_all.py), from each block's outlier ratio D in
 * percent: D' = (D - min D) / (max D - min D) * 2 lambda; density = D' - mean(D') + (1 - target);
 * sparsity = 1 - density. Blocks with more outliers keep more weights; the mean sparsity is the
 * target. In double, as numpy computes it, its mean included (a pairwise sum: {@link #numpyMean}).
 */
public final class OwlAllocation {
    private OwlAllocation() {
    }

    public static double[] sparsities(double[] outlierRatios, double target, double lambda) {
        int n = outlierRatios.length;
        if (n == 0) {
            return new double[0];
        }
        double min = Arrays.stream(outlierRatios).min().orElseThrow();
        double max = Arrays.stream(outlierRatios).max().orElseThrow();
        double[] s = new double[n];
        if (max == min) {
            // OWL would divide by zero (NaN sparsities): with no spread there is nothing to reallocate
            Arrays.fill(s, target);
            return s;
        }
        double[] scaled = new double[n];
        for (int l = 0; l < n; l++) {
            scaled[l] = (outlierRatios[l] - min) * (1 / (max - min) * lambda * 2);
        }
        double mean = numpyMean(scaled);
        for (int l = 0; l < n; l++) {
            double density = scaled[l] - mean + (1 - target);
            s[l] = 1 - density;
            if (!(s[l] > 0 && s[l] < 1)) {
                throw new LayerscopeException("OWL gives block " + l + " a sparsity of " + s[l] + " with --sparsity "
                        + target + " and --owl-lambda " + lambda + "; every block needs 0 < sparsity < 1: use a smaller"
                        + " --owl-lambda or a --sparsity further from 0 and 1");
            }
        }
        return s;
    }

    /**
     * {@code np.mean} of a float64 array, to the bit: numpy adds with its pairwise summation
     * (numpy/_core/src/umath/loops_utils.h.src, {@code pairwise_sum}), which differs from a plain loop
     * in the last bits from 8 values on, and so would some blocks' sparsities.
     */
    static double numpyMean(double[] a) {
        return (0.0 + pairwiseSum(a, 0, a.length)) / a.length;
    }

    private static double pairwiseSum(double[] a, int from, int n) {
        if (n < 8) {
            double sum = 0.0;
            for (int i = 0; i < n; i++) {
                sum += a[from + i];
            }
            return sum;
        }
        if (n <= 128) {
            double[] r = new double[8];
            System.arraycopy(a, from, r, 0, 8);
            int i = 8;
            for (; i < n - n % 8; i += 8) {
                for (int k = 0; k < 8; k++) {
                    r[k] += a[from + i + k];
                }
            }
            double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) {
                sum += a[from + i];
            }
            return sum;
        }
        int half = n / 2;
        half -= half % 8;
        return pairwiseSum(a, from, half) + pairwiseSum(a, from + half, n - half);
    }
}
