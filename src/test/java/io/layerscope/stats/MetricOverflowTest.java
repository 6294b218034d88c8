package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import org.junit.jupiter.api.Test;

class MetricOverflowTest {
    /** 3e38 (finite) times an activation norm of 2 is past Float.MAX_VALUE: Infinity in float32, refused. */
    @Test
    void aMetricPastFloat32IsRefusedWithTheSizesThatMadeIt() {
        float[] w = {3e38f, 1f, 1f, 1f};
        LayerStats overflowing = LayerStatistics.compute(w, 2, 2, new float[] {4f, 1f});
        assertEquals(Double.POSITIVE_INFINITY, overflowing.wanda().summary().max(), "the float32 metric overflows");
        assertEquals("layer lm_head: its Wanda metric |W|·||X|| overflows float32 (largest |W| 3.0E38, largest ||X|| 2.0),"
                + " computed in float32 as Wanda computes it; weights this large are not a trained model's: check the"
                + " checkpoint", assertThrows(LayerscopeException.class,
                        () -> MetricOverflow.check("lm_head", overflowing)).getMessage());
        // the same weight under a norm of 1 stays finite
        assertDoesNotThrow(() -> MetricOverflow.check("lm_head", LayerStatistics.compute(w, 2, 2, new float[] {1f, 1f})));
        // one weight: its standard deviation is NaN by definition, not an overflow
        assertDoesNotThrow(() -> MetricOverflow.check("tiny", LayerStatistics.compute(new float[] {0.5f}, 1, 1, new float[] {1f})));
    }
}
