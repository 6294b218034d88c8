package io.layerscope.prune;

import io.layerscope.LayerscopeException;
import io.layerscope.stats.RowPruner;

/**
 * Wanda's mask of one layer: the metric |W| * sqrt(scaler_row) in float32, row by row, pruned by the
 * pattern at the layer's sparsity (REFERENCE: per row the floor(in * s) smallest, stable; or N:M).
 * Never holds more than one row of scores besides the weight and the packed mask.
 */
public final class LayerPruner {
    private LayerPruner() {
    }

    /**
     * @param w        the weight, float32 row-major [out, in]
     * @param actNorm  sqrt(scaler_row) per input feature, float32
     * @param sparsity the layer's target sparsity (unstructured); ignored by N:M
     */
    public static LayerMask wanda(String layer, float[] w, int out, int in, float[] actNorm, double sparsity,
                                  SparsityPattern pattern) {
        if ((long) out * in != w.length || actNorm.length != in) {
            throw new IllegalArgumentException(layer + ": weight of " + w.length + " values, shape " + out + "x" + in
                    + ", " + actNorm.length + " activation norms");
        }
        if (pattern.structured() && in % pattern.m() != 0) {
            throw new LayerscopeException("--prune-m " + pattern.m() + " does not divide " + layer + "'s in_features "
                    + in + "; an N:M pattern needs whole groups of M columns");
        }
        RowPruner pruner = new RowPruner(in, sparsity);
        float[] scores = new float[in];
        byte[] pruned = new byte[in];
        LayerMask.Builder mask = new LayerMask.Builder(out, in);
        for (int i = 0; i < out; i++) {
            int base = i * in;
            for (int j = 0; j < in; j++) {
                float v = w[base + j];
                if (!(Math.abs(v) <= Float.MAX_VALUE)) {
                    throw new LayerscopeException("Layer " + layer + ": weight entry [" + i + ", " + j + "] is " + v
                            + "; a mask over a non-finite weight is meaningless (damaged checkpoint?)");
                }
                scores[j] = Math.abs(v) * actNorm[j];
            }
            pattern.mask(scores, pruner, pruned);
            mask.row(i, pruned);
        }
        return mask.build();
    }

    /** sqrt(scaler_row) in float32, as torch.sqrt on the float32 scaler_row. */
    public static float[] activationNorms(float[] scalerRow) {
        float[] n = new float[scalerRow.length];
        for (int j = 0; j < n.length; j++) {
            n[j] = (float) Math.sqrt(scalerRow[j]);
        }
        return n;
    }
}
