package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import io.layerscope.stats.LayerStatistics;
import io.layerscope.stats.LayerStats;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LayerPicturesTest {

    @Test
    void theWandaPanelNamesTheSparsityItsMasksWereBuiltAt() {
        int out = 4;
        int in = 8;
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 2 == 0 ? 1 : -1) * (1 + (i * 7) % 13) / 16f;
        }
        float[] equalNorms = new float[in];
        java.util.Arrays.fill(equalNorms, 4f);
        // OWL's block sparsity, not --sparsity: a picture must say which one its agreements are at
        LayerStats s = LayerStatistics.compute("model.layers.2.self_attn.k_proj", w, out, in, equalNorms, 0.5604);
        PrunableLayer layer = new PrunableLayer("model.layers.2.self_attn.k_proj", 2, LayerKind.K_PROJ, out, in, "w");

        Map<String, String> panel = LayerPictures.wandaPanel(s, layer, 64);

        assertEquals("0.5604", panel.get("masks at sparsity"));
        // equal activation norms: Wanda's score is |W| times one constant, so its masks are magnitude's
        assertEquals("1.0000", panel.get("agree vs magnitude (row)"));
        assertEquals(List.of("mean", "std", "min", "max", "median", "p99", "shape", "nsamples", "masks at sparsity",
                "agree vs magnitude (row)", "agree vs magnitude (layer)", "agree vs magnitude (2:4)",
                "outliers > 5x mean"), List.copyOf(panel.keySet()));
        assertEquals("4 x 8", panel.get("shape"));
    }
}
