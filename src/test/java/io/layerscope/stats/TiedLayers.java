package io.layerscope.stats;

import java.util.SplittableRandom;

/** Random layers for mask tests: weights that tie on a coarse grid, and scaler_rows with outlier channels. */
final class TiedLayers {
    private TiedLayers() {
    }

    /** {@code n} Gaussian weights, or with {@code coarse} values from {-3/4 .. 3/4} in quarters (many ties). */
    static float[] weights(SplittableRandom rnd, int n, boolean coarse) {
        float[] w = new float[n];
        for (int k = 0; k < n; k++) {
            w[k] = coarse ? (rnd.nextInt(7) - 3) / 4f : (float) rnd.nextGaussian();
        }
        return w;
    }

    /** A scaler_row of small whole numbers (ties again), with about one channel in five an outlier near 1e4. */
    static float[] scalerRowWithOutliers(SplittableRandom rnd, int in) {
        float[] scaler = new float[in];
        for (int j = 0; j < in; j++) {
            scaler[j] = rnd.nextInt(5) == 0 ? (float) (1e4 * (1 + rnd.nextDouble())) : rnd.nextInt(3) + 1;
        }
        return scaler;
    }
}
