package io.layerscope.prune;

import io.layerscope.LayerscopeException;
import java.util.Arrays;

/**
 * OWL's per-block sparsities (luuyin/OWL, lib/prune_all.py), from each block's outlier ratio D in
 * percent: D' = (D - min D) / (max D - min D) * 2 lambda; density = D' - mean(D') + (1 - target);
 * sparsity = 1 - density. Blocks with more outliers keep more weights; the mean sparsity is the
 * target. In double, as numpy computes it.
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
        double mean = 0;
        for (int l = 0; l < n; l++) {
            scaled[l] = (outlierRatios[l] - min) * (1 / (max - min) * lambda * 2);
            mean += scaled[l];
        }
        mean /= n;
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
}
