package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.DemoModel;
import io.layerscope.model.PrunableLayer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerSelectionTest {
    @TempDir
    Path tmp;

    /** The demo model's 29 layers: a pattern's choice is named, the first eight in full. */
    @Test
    void theLineNamesWhatThePatternChose() {
        List<PrunableLayer> all = Checkpoint.open(DemoModel.ensure(tmp)).prunableLayers();
        List<PrunableLayer> mlp1 = LayerSelection.select(all, "layers\\.1\\.mlp");
        assertEquals("layers: --layers \"layers\\.1\\.mlp\" matches 3 of 29: model.layers.1.mlp.gate_proj,"
                + " model.layers.1.mlp.up_proj, model.layers.1.mlp.down_proj", LayerSelection.describe("layers\\.1\\.mlp", mlp1, 29));
        List<PrunableLayer> proj = LayerSelection.select(all, "q_proj|k_proj|v_proj");
        assertEquals("layers: --layers \"q_proj|k_proj|v_proj\" matches 12 of 29: model.layers.0.self_attn.q_proj,"
                + " model.layers.0.self_attn.k_proj, model.layers.0.self_attn.v_proj, model.layers.1.self_attn.q_proj,"
                + " model.layers.1.self_attn.k_proj, model.layers.1.self_attn.v_proj, model.layers.2.self_attn.q_proj,"
                + " model.layers.2.self_attn.k_proj and 4 more", LayerSelection.describe("q_proj|k_proj|v_proj", proj, 29));
    }
}
