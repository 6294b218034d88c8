package io.layerscope.stats;

import java.io.Serializable;

/**
 * What one tap's Gram matrix says about its input directions.
 *
 * @param participationRatio (tr G)^2 / ||G||_F^2: the effective number of input directions, between 1
 *                           and in ({@code participation_ratio}); NaN when G is zero
 * @param deadFeatures       input features with G_jj = 0: never non-zero on any calibration token
 *                           ({@code dead_features})
 */
public record TapGram(double participationRatio, int deadFeatures) implements Serializable {
    private static final long serialVersionUID = 1L;

    public static TapGram of(double[] g) {
        int in = GramSums.dimension("(matrix)", g);
        double trace = 0;
        double frobenius = 0;
        int dead = 0;
        for (int j = 0; j < in; j++) {
            double d = g[j * in + j];
            trace += d;
            dead += d == 0 ? 1 : 0;
        }
        for (double v : g) {
            frobenius += v * v;
        }
        return new TapGram(frobenius == 0 ? Double.NaN : trace * trace / frobenius, dead);
    }

    /**
     * The largest |diag(G)_j / nsamples - scaler_row_j| / max(scaler_row_j, smallest normal float)
     * over j: G and scaler_row come from the same activations, so this is rounding only (a free check).
     */
    public static double diagonalDifference(double[] g, long nsamples, float[] scalerRow) {
        int in = GramSums.dimension("(matrix)", g);
        if (scalerRow.length != in) {
            throw new IllegalArgumentException("scaler_row of " + scalerRow.length + " for a Gram matrix of side " + in);
        }
        double worst = 0;
        for (int j = 0; j < in; j++) {
            double expected = scalerRow[j];
            double diff = Math.abs(g[j * in + j] / nsamples - expected) / Math.max(expected, Float.MIN_NORMAL);
            worst = Math.max(worst, diff);
        }
        return worst;
    }
}
