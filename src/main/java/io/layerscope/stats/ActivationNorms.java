package io.layerscope.stats;

/**
 * Wanda's activation norm ||X_j|| = sqrt(scaler_row_j) and RIA's factor sqrt(||X_j||), in float32:
 * one definition for every stage and mask that uses them, whose bits must be those of Wanda's
 * torch.sqrt on the float32 scaler_row.
 */
public final class ActivationNorms {
    private ActivationNorms() {
    }

    /** sqrt(x) in float32, as torch.sqrt: the double square root rounded to float is the correctly rounded one. */
    public static float sqrt(float x) {
        return (float) Math.sqrt(x);
    }

    /** The activation norms of a layer's inputs from its scaler_row (means of squared inputs). */
    public static float[] of(float[] scalerRow) {
        return sqrtOf(scalerRow);
    }

    /** RIA's activation factors sqrt(scaler_row)^0.5 = sqrt(act_norm), as torch's pow(0.5) (a sqrt). */
    public static float[] riaFactors(float[] actNorm) {
        return sqrtOf(actNorm);
    }

    private static float[] sqrtOf(float[] values) {
        float[] out = new float[values.length];
        for (int j = 0; j < values.length; j++) {
            out[j] = sqrt(values[j]);
        }
        return out;
    }
}
