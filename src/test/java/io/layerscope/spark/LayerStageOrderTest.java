package io.layerscope.spark;

import io.layerscope.results.LayerResult;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Stage two schedules the largest layers first and hands results back in the model's order. */
class LayerStageOrderTest {
    private static PrunableLayer layer(String name, int block, LayerKind kind, int out, int in) {
        return new PrunableLayer(name, block, kind, out, in, name + ".weight");
    }

    private final PrunableLayer q = layer("model.layers.0.self_attn.q_proj", 0, LayerKind.Q_PROJ, 64, 64);
    private final PrunableLayer k = layer("model.layers.0.self_attn.k_proj", 0, LayerKind.K_PROJ, 32, 64);
    private final PrunableLayer v = layer("model.layers.0.self_attn.v_proj", 0, LayerKind.V_PROJ, 32, 64);
    private final PrunableLayer gate = layer("model.layers.0.mlp.gate_proj", 0, LayerKind.GATE_PROJ, 176, 64);
    private final PrunableLayer head = layer("lm_head", -1, LayerKind.LM_HEAD, 512, 64);

    @Test
    void largestLayersComeFirstAndEqualSizesKeepTheirOrder() {
        List<PrunableLayer> sorted = LayerStage.largestFirst(List.of(q, k, v, gate, head));
        assertEquals(List.of(head, gate, q, k, v), sorted);
    }

    @Test
    void resultsReturnInTheModelsOrder() {
        List<PrunableLayer> order = List.of(q, k, v, gate, head);
        List<LayerResult> scheduled = LayerStage.largestFirst(order).stream()
                .map(l -> new LayerResult(l, null, new float[0], 1, 1, null, null, 0)).toList();
        assertEquals(order, LayerStage.inOrderOf(order, scheduled).stream().map(LayerResult::layer).toList());
    }
}
