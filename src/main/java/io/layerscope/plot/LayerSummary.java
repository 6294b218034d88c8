package io.layerscope.plot;

import io.layerscope.LayerscopeException;

/**
 * The per-layer numbers a sweep overview shows: one row of the {@code layers} table reduced to
 * plain values, so the overview chart and the report page need neither Spark nor the statistics code.
 *
 * <pre>{@code
 * new LayerSummary("model.layers.0.mlp.down_proj", 0, "down_proj", 2048, 8192,
 *         0.61, 0.0042, 0.87, 0.81, 0.83, 0.021, 0.0031, 0.0009);
 * }</pre>
 *
 * @param layer full module name, e.g. {@code model.layers.0.self_attn.q_proj}
 * @param block decoder block index, or -1 for a layer outside the blocks (lm_head)
 * @param kind the layer kind as in the module path: {@code q_proj} ... {@code lm_head}
 * @param outFeatures rows of the weight
 * @param inFeatures columns of the weight (input features)
 * @param actNormMean mean activation norm over the input features ({@code act_norm_mean})
 * @param wandaMean mean Wanda metric ({@code wanda_mean})
 * @param agreeRow Wanda vs per-row magnitude mask agreement at 50% ({@code agree_wanda_magnitude_row})
 * @param agreeLayer the same against the per-layer magnitude mask ({@code agree_wanda_magnitude_layer})
 * @param agree2of4 the same for 2:4 masks ({@code agree_wanda_magnitude_2of4})
 * @param outlierM3 OWL outlier ratio at M = 3 ({@code outlier_ratio_m3})
 * @param outlierM5 OWL outlier ratio at M = 5 ({@code outlier_ratio_m5})
 * @param outlierM7 OWL outlier ratio at M = 7 ({@code outlier_ratio_m7})
 */
public record LayerSummary(String layer, int block, String kind, int outFeatures, int inFeatures,
                           double actNormMean, double wandaMean, double agreeRow, double agreeLayer, double agree2of4,
                           double outlierM3, double outlierM5, double outlierM7) {

    public LayerSummary {
        if (layer == null || layer.isBlank() || kind == null || kind.isBlank()) {
            throw new LayerscopeException("layer summary: layer name '" + layer + "' and kind '" + kind
                    + "' must not be blank");
        }
        if (block < -1) {
            throw new LayerscopeException("layer summary of " + layer + ": block " + block
                    + " must be a decoder block index (0 or more) or -1 for a layer outside the blocks");
        }
    }

    /** True for a layer inside a decoder block; false for lm_head, which is no point along the depth. */
    public boolean inBlock() {
        return block >= 0;
    }
}
