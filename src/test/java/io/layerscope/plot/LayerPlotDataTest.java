package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.stats.Histogram;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LayerPlotDataTest {
    private static final Histogram BINS = Histogram.of(new double[] {0.1, 1, 10}, new long[] {3, 4});

    private static ReducedMatrix cells(int rows, int cols, int rb, int cb) {
        return new ReducedMatrix(new float[rows * cols], rows, cols, rb, cb);
    }

    private static LayerPlotData.Builder complete(int out, int in, ReducedMatrix m) {
        return LayerPlotData.builder().model("m").layer("model.layers.0.mlp.up_proj").shape(out, in)
                .calibration(new CalibrationSummary("c4", 128, 2048, 0))
                .heatmaps(new LayerHeatmaps(m, m)).activationNorm(new float[in])
                .weight(BINS, Map.of()).activation(BINS, Map.of()).wanda(BINS, Map.of());
    }

    @Test
    void keepsStatisticsInTheGivenOrder() {
        Map<String, String> stats = new LinkedHashMap<>();
        stats.put("zeta", "1");
        stats.put("alpha", "2");
        stats.put("mid", "3");
        LayerPlotData d = complete(4, 3, cells(4, 3, 1, 1)).wanda(BINS, stats).build();
        assertEquals(List.of("zeta", "alpha", "mid"), List.copyOf(d.wandaStatistics().keySet()));
        stats.put("late", "4");
        assertEquals(3, d.wandaStatistics().size());
    }

    @Test
    void copiesTheActivationNorm() {
        float[] norm = {1, 2, 3};
        LayerPlotData d = complete(4, 3, cells(4, 3, 1, 1)).activationNorm(norm).build();
        norm[0] = 99;
        assertEquals(1f, d.activationNorm(0));
        d.activationNorm()[1] = 99;
        assertEquals(2f, d.activationNorm(1));
    }

    @Test
    void acceptsReducedGridWithShortTailBlocks() {
        // 1000 x 777 in blocks of 16: 63 x 49 cells.
        LayerPlotData d = complete(1000, 777, cells(63, 49, 16, 16)).build();
        assertEquals(63, d.heatmaps().wanda().rows());
    }

    @Test
    void refusesHeatmapThatDoesNotCoverTheWeight() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> complete(3, 2, cells(2, 2, 1, 1)).build());
        assertEquals("layer plot of model.layers.0.mlp.up_proj: the |W| heatmap has 2 x 2 cells of 1 x 1, which does not "
                + "cover the 3 x 2 weight (expected 3 x 2 cells)", e.getMessage());
    }

    @Test
    void refusesActivationNormOfWrongLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> complete(4, 3, cells(4, 3, 1, 1)).activationNorm(new float[4]).build());
        assertEquals("layer plot of model.layers.0.mlp.up_proj: the activation norm has 4 values but the layer has 3 "
                + "input features", e.getMessage());
    }

    @Test
    void refusesMissingParts() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> complete(4, 3, cells(4, 3, 1, 1)).wanda(null, Map.of()).build());
        assertEquals("layer plot: the wanda histogram is missing; set it before building", e.getMessage());
        IllegalArgumentException blank = assertThrows(IllegalArgumentException.class,
                () -> complete(4, 3, cells(4, 3, 1, 1)).model(" ").build());
        assertEquals("layer plot: model and layer names must not be blank (model ' ', layer "
                + "'model.layers.0.mlp.up_proj')", blank.getMessage());
    }

    @Test
    void describesCalibration() {
        assertEquals("c4, 128 \u00d7 2048 tokens, seed 0", new CalibrationSummary("c4", 128, 2048, 0).describe());
        assertEquals("16 \u00d7 512 tokens, seed 7", new CalibrationSummary(null, 16, 512, 7).describe());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CalibrationSummary("c4", 0, 2048, 0));
        assertEquals("calibration summary: nsamples 0 and seqlen 2048 must both be at least 1", e.getMessage());
    }

    @Test
    void histogramBinsAreValidated() {
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> Histogram.of(new double[] {0, 1}, new long[] {1, 2}));
        assertEquals("histogram: 2 counts need 3 edges, got 2; pass the edges including both ends", count.getMessage());
        IllegalArgumentException order = assertThrows(IllegalArgumentException.class,
                () -> Histogram.of(new double[] {0, 1, 1}, new long[] {1, 2}));
        assertEquals("histogram: edge 2 is 1.0; edges must be finite and strictly increasing", order.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> Histogram.of(new double[] {0, 1, 2}, new long[] {1, -2}));
        assertEquals("histogram: count of bin 1 is -2; counts must be non-negative", negative.getMessage());
    }

    @Test
    void reducedMatrixIsValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ReducedMatrix(new float[5], 2, 3, 1, 1));
        assertEquals("reduced matrix: 2 x 3 cells need 6 values, got 5", e.getMessage());
    }
}
