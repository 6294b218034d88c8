package io.layerscope.plot;

import java.util.Map;

/**
 * The per-layer numbers a sweep overview shows: one row of the {@code layers} table reduced to its
 * identity and the numeric columns the report shows, by column name, so the overview chart and
 * the report page need neither Spark nor the statistics code.
 *
 * <pre>{@code
 * new LayerSummary("model.layers.0.mlp.down_proj", 0, "down_proj", 2048, 8192,
 *         Map.of("wanda_mean", 0.0042, "outlier_ratio_m5", 0.0031));
 * }</pre>
 *
 * @param layer       full module name, e.g. {@code model.layers.0.self_attn.q_proj}
 * @param block       decoder block index, or -1 for a layer outside the blocks (lm_head)
 * @param kind        the layer kind as in the module path: {@code q_proj} ... {@code lm_head}
 * @param outFeatures rows of the weight
 * @param inFeatures  columns of the weight (input features)
 * @param values      numeric columns of the layer's row by {@code layers} column name
 */
public record LayerSummary(String layer, int block, String kind, int outFeatures, int inFeatures,
                           Map<String, Double> values) {

    public LayerSummary {
        if (layer == null || layer.isBlank() || kind == null || kind.isBlank()) {
            throw new IllegalArgumentException("layer summary: layer name '" + layer + "' and kind '" + kind
                    + "' must not be blank");
        }
        if (block < -1) {
            throw new IllegalArgumentException("layer summary of " + layer + ": block " + block
                    + " must be a decoder block index (0 or more) or -1 for a layer outside the blocks");
        }
        values = Map.copyOf(values);
    }

    /** The value of a {@code layers} column; NaN when this summary does not hold it. */
    public double value(String column) {
        Double v = values.get(column);
        return v == null ? Double.NaN : v;
    }

    /** True for a layer inside a decoder block; false for lm_head, which is no point along the depth. */
    public boolean inBlock() {
        return block >= 0;
    }
}
