package io.layerscope.stats;

import java.io.Serializable;

/**
 * The share of a layer's output energy on the calibration data that each mask removes,
 * E(P) = tr(dW G dW^T) / tr(W G W^T) with dW = W where P prunes, else 0 (REFERENCE: SparseGPT's
 * reconstruction error, normalised). NaN when the layer's output is zero on every calibration token.
 *
 * @param wanda          Wanda per row, unstructured ({@code recon_err_wanda})
 * @param magnitudeRow   magnitude per row ({@code recon_err_magnitude_row})
 * @param magnitudeLayer magnitude per layer, Wanda's prune_magnitude ({@code recon_err_magnitude_layer})
 * @param wanda2of4      Wanda 2:4 ({@code recon_err_wanda_2of4})
 * @param ria            RIA per layer ({@code recon_err_ria})
 * @param diagWanda      E_diag of Wanda's mask: sum dW_ij^2 G_jj / tr(W G W^T), the part Wanda's
 *                       metric sees ({@code recon_err_diag_wanda})
 */
public record ReconstructionErrors(double wanda, double magnitudeRow, double magnitudeLayer, double wanda2of4,
                                   double ria, double diagWanda) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** E / E_diag of Wanda's mask: how much the correlations between input features add to its error. */
    public double offDiagonalFactor() {
        return wanda / diagWanda;
    }
}
