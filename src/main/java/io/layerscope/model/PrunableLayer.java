package io.layerscope.model;

import java.io.Serializable;

/**
 * One prunable Linear layer: its module path ({@code model.layers.0.self_attn.q_proj}), block index
 * ({@code -1} for lm_head), kind, shape and the safetensors tensor that holds its weight (for a tied
 * lm_head, the embedding matrix).
 */
public record PrunableLayer(String name, int block, LayerKind kind, int outFeatures, int inFeatures,
                            String weightTensor) implements Serializable {

    public String group() {
        return kind.group();
    }

    public Tap tap() {
        return kind.tap();
    }

    /** The key of the tap that feeds this layer (shared with its siblings). */
    public String tapKey() {
        return kind.tap().key(block);
    }
}
