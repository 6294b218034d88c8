package io.layerscope.stats;

import io.layerscope.LayerscopeException;

/**
 * Finite weights can still overflow float32 in the metrics (|W| near 3e38 times an activation norm
 * above 1), which Wanda computes in float32 as layerscope does: the layer's statistics would read
 * Infinity and NaN. Refused with the layer and the sizes that overflowed, as a non-finite weight is.
 */
public final class MetricOverflow {
    private MetricOverflow() {
    }

    /** Throws when the Wanda metric's or RIA's summary of {@code layer} is not finite. */
    public static void check(String layer, LayerStats s) {
        String which = !finite(s.wanda().summary()) ? "Wanda metric |W|·||X||" : !finite(s.ria().summary()) ? "RIA score" : null;
        if (which == null) {
            return;
        }
        throw new LayerscopeException("layer " + layer + ": its " + which + " overflows float32 (largest |W| "
                + (float) s.weightAbs().summary().max() + ", largest ||X|| " + (float) s.actNorm().summary().max() + "),"
                + " computed in float32 as Wanda computes it; weights this large are not a trained model's: check the"
                + " checkpoint");
    }

    /** Mean and extremes (the standard deviation of a single value is NaN by definition). */
    private static boolean finite(Summary s) {
        return Double.isFinite(s.mean()) && Double.isFinite(s.max()) && Double.isFinite(s.min());
    }
}
