package io.layerscope.results;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LayerResultTest {
    @Test
    void aPictureIsNamedForItsLayerAndNeverNamesAPath() {
        assertEquals("layer_analysis_model.layers.0.self_attn.q_proj.png",
                LayerResult.pngName("model.layers.0.self_attn.q_proj"));
        assertEquals("layer_analysis_lm_head.png", LayerResult.pngName("lm_head"));
        assertEquals("layer_analysis_.._a_b_c.png", LayerResult.pngName("../a/b c"));
    }
}
