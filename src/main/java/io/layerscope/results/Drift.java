package io.layerscope.results;

import io.layerscope.stats.ActivationNorms;
import java.io.Serializable;

/**
 * How a layer seen during Wanda's sequential pruning differs from the dense view (sequential mode
 * only): the dense scaler_row beside the sequential one, how far the activation norms moved, how
 * much the masks the two make differ, and the sparsity the layer was pruned at.
 *
 * @param denseScalerRow  the dense forward's scaler_row (activation_norms.scaler_row_dense)
 * @param actNormCos      cosine similarity of the dense and sequential act_norm vectors
 * @param actNormRatio    ||act_norm_seq||_2 / ||act_norm_dense||_2
 * @param maskAgreement   share of entries where the sequential and the dense Wanda masks agree (same
 *                        sparsity and pattern)
 * @param sparsityTarget  the sparsity the layer was pruned at; null for lm_head (never pruned)
 * @param sparsityActual  the share of its entries the mask prunes; null for lm_head
 */
public record Drift(float[] denseScalerRow, double actNormCos, double actNormRatio, double maskAgreement,
                    Double sparsityTarget, Double sparsityActual) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Cosine and norm ratio of sqrt(scalerRow) against sqrt(denseScalerRow), summed in double. */
    public static double[] actNormDrift(float[] scalerRow, float[] denseScalerRow) {
        double dot = 0;
        double seq = 0;
        double dense = 0;
        for (int j = 0; j < scalerRow.length; j++) {
            double a = ActivationNorms.sqrt(scalerRow[j]);
            double b = ActivationNorms.sqrt(denseScalerRow[j]);
            dot += a * b;
            seq += a * a;
            dense += b * b;
        }
        double cos = seq == 0 || dense == 0 ? Double.NaN : dot / Math.sqrt(seq * dense);
        return new double[] {cos, Math.sqrt(seq) / Math.sqrt(dense)};
    }
}
