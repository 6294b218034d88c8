package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import io.layerscope.stats.LayerStatistics;
import io.layerscope.stats.WeightRows;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Stage two computes big layers on the executor's statistics pool, with the one-thread result. */
class LayerStageStatisticsTest {

    @Test
    void aBigLayerOnThePoolGivesTheOneThreadResult() {
        int out = 2100; // 2100 x 2000 = 4.2 M entries: just above the pool's threshold
        int in = 2000;
        PrunableLayer layer = new PrunableLayer("lm_head", -1, LayerKind.LM_HEAD, out, in, "lm_head.weight");
        assertTrue(StatisticsThreads.worthAPool(out, in));
        SplittableRandom random = new SplittableRandom(3);
        float[] w = new float[out * in];
        for (int k = 0; k < w.length; k++) {
            w[k] = k % 9 == 0 ? 0f : (float) (0.02 * random.nextGaussian());
        }
        float[] scalerRow = new float[in];
        for (int j = 0; j < in; j++) {
            scalerRow[j] = (float) Math.exp(3 * random.nextGaussian());
        }
        assertEquals(LayerStatistics.compute("lm_head", w, out, in, scalerRow, 0.3),
                LayerStage.statistics(layer, WeightRows.of(w, out, in), scalerRow, 0.3, null, null));
        assertTrue(StatisticsThreads.pool().getPoolSize() > 0, "the pool's threads ran the chunks");
    }
}
