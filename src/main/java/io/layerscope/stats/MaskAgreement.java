package io.layerscope.stats;

import java.io.Serializable;

/**
 * How much Wanda's masks agree with magnitude pruning's at one sparsity: each share is the
 * fraction of all out*in entries on which the two masks say the same (both pruned or both kept).
 *
 * @param sparsity          the sparsity both masks were built for (0.5 in layerscope's tables)
 * @param row               Wanda per-row unstructured vs per-row magnitude
 *                          ({@code agree_wanda_magnitude_row})
 * @param layer             Wanda per-row unstructured vs Wanda's {@code prune_magnitude}, one
 *                          threshold for the layer ({@code agree_wanda_magnitude_layer})
 * @param twoOfFour         Wanda 2:4 vs magnitude 2:4 ({@code agree_wanda_magnitude_2of4}); when in_features
 *                          is not a multiple of 4, the trailing partial group is left unpruned by both
 *                          (see {@link RowPruner#nOfM}), so it counts as agreeing
 * @param layerThreshold    {@code t = sort(|W|.flatten())[floor(numel * sparsity)]}; the layer mask
 *                          prunes {@code |W| <= t}
 * @param layerMaskSparsity the share the layer mask actually prunes: above {@code sparsity} when
 *                          several weights tie at {@code t}, as bf16 weights often do
 * @param riaWanda          RIA's layer-wise mask (RIA <= its value at rank floor(numel * sparsity)) vs
 *                          Wanda per-row unstructured ({@code agree_ria_wanda})
 * @param riaThreshold      that RIA value
 */
public record MaskAgreement(double sparsity, double row, double layer, double twoOfFour, float layerThreshold,
                            double layerMaskSparsity, double riaWanda, float riaThreshold) implements Serializable {
    private static final long serialVersionUID = 1L;
}
