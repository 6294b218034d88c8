package io.layerscope.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.layerscope.plot.LayerSummary;
import io.layerscope.report.MaskErrorMeans.Group;
import io.layerscope.report.MaskErrorMeans.Mask;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MaskErrorMeansTest {
    private static final double NaN = Double.NaN;

    /**
     * Two blocks of q_proj and down_proj, then lm_head; errors in the column order Wanda, magnitude
     * per-row, magnitude per-layer, Wanda 2:4, RIA, multiples of 1/16 so every mean is exact.
     */
    static List<LayerSummary> example() {
        return List.of(
                SyntheticReport.withErrors(SyntheticReport.layer(0, 0), 0.125, 0.375, 0.5, 0.625, 0.25),
                SyntheticReport.withErrors(SyntheticReport.layer(0, 6), 0.375, 0.125, 0.25, 0.875, 0.5),
                SyntheticReport.withErrors(SyntheticReport.layer(1, 0), 0.375, 0.625, 0.75, 1.125, 0.25),
                SyntheticReport.withErrors(SyntheticReport.layer(1, 6), 0.625, 0.375, 0.25, 0.75, 0.25),
                SyntheticReport.withErrors(SyntheticReport.head(), 0.25, 0.5, 0.5, 0.75, 0.25));
    }

    @Test
    void meansByKindAndByDepthAndTheLeastMaskFirstOfEqualOnes() {
        MaskErrorMeans means = MaskErrorMeans.of(example());
        assertEquals(List.of("Wanda", "magnitude per-row", "magnitude per-layer", "Wanda 2:4", "RIA"),
                means.masks().stream().map(Mask::name).toList());

        assertEquals(List.of("q_proj", "down_proj", "lm_head"), means.byKind().stream().map(Group::label).toList());
        // q_proj: (0.125 + 0.375) / 2, (0.375 + 0.625) / 2, (0.5 + 0.75) / 2, (0.625 + 1.125) / 2, (0.25 + 0.25) / 2
        assertGroup(means.byKind().get(0), 2, 2, new double[] {0.25, 0.5, 0.625, 0.875, 0.25}, 0);   // Wanda = RIA: Wanda
        // down_proj: (0.375 + 0.625) / 2, (0.125 + 0.375) / 2, (0.25 + 0.25) / 2, (0.875 + 0.75) / 2, (0.5 + 0.25) / 2
        assertGroup(means.byKind().get(1), 2, 2, new double[] {0.5, 0.25, 0.25, 0.8125, 0.375}, 1);   // per-row = per-layer
        assertGroup(means.byKind().get(2), 1, 1, new double[] {0.25, 0.5, 0.5, 0.75, 0.25}, 0);

        assertEquals(List.of("0", "1", "head"), means.byDepth().stream().map(Group::label).toList());
        // block 0: (0.125 + 0.375) / 2, (0.375 + 0.125) / 2, (0.5 + 0.25) / 2, (0.625 + 0.875) / 2, (0.25 + 0.5) / 2
        assertGroup(means.byDepth().get(0), 2, 2, new double[] {0.25, 0.25, 0.375, 0.75, 0.375}, 0);
        // block 1: (0.375 + 0.625) / 2, (0.625 + 0.375) / 2, (0.75 + 0.25) / 2, (1.125 + 0.75) / 2, (0.25 + 0.25) / 2
        assertGroup(means.byDepth().get(1), 2, 2, new double[] {0.5, 0.5, 0.5, 0.9375, 0.25}, 4);
        assertGroup(means.byDepth().get(2), 1, 1, new double[] {0.25, 0.5, 0.5, 0.75, 0.25}, 0);
    }

    @Test
    void aLayerWithoutEveryErrorIsLeftOutOfItsGroupsMeans() {
        List<LayerSummary> layers = new ArrayList<>(example());
        layers.add(2, SyntheticReport.withErrors(SyntheticReport.layer(0, 1), NaN, NaN, NaN, NaN, NaN));   // output zero
        layers.add(SyntheticReport.withErrors(SyntheticReport.layer(1, 1), 0.0625, 0.0625, 0.0625, 0.0625, NaN));
        MaskErrorMeans means = MaskErrorMeans.of(layers);

        assertEquals(List.of("q_proj", "down_proj", "k_proj", "lm_head"), means.byKind().stream().map(Group::label).toList());
        assertGroup(means.byKind().get(2), 0, 2, new double[] {NaN, NaN, NaN, NaN, NaN}, -1);
        assertGroup(means.byDepth().get(0), 2, 3, new double[] {0.25, 0.25, 0.375, 0.75, 0.375}, 0);
        assertGroup(means.byDepth().get(1), 2, 3, new double[] {0.5, 0.5, 0.5, 0.9375, 0.25}, 4);
    }

    @Test
    void aMaskNoLayerHasAnErrorForIsNoColumn() {
        List<LayerSummary> layers = List.of(SyntheticReport.withErrors(SyntheticReport.layer(0, 0), 0.5, 0.25, 0.125, 0.75, NaN),
                SyntheticReport.withErrors(SyntheticReport.layer(0, 1), 0.25, 0.5, 0.5, 0.25, NaN));
        MaskErrorMeans means = MaskErrorMeans.of(layers);
        assertEquals(List.of("recon_err_wanda", "recon_err_magnitude_row", "recon_err_magnitude_layer", "recon_err_wanda_2of4"),
                means.masks().stream().map(Mask::column).toList());
        assertGroup(means.byDepth().get(0), 2, 2, new double[] {0.375, 0.375, 0.3125, 0.5}, 2);
        assertEquals(1, means.byDepth().size(), "no head row without lm_head");
    }

    @Test
    void noErrorsNoMeans() {
        assertNull(MaskErrorMeans.of(SyntheticReport.sweep(2)), "a run without --gram");
        assertNull(MaskErrorMeans.of(List.of(SyntheticReport.withErrors(SyntheticReport.layer(0, 0), NaN, NaN, NaN, NaN, NaN))),
                "every layer's output zero");
    }

    private static void assertGroup(Group g, int averaged, int layers, double[] means, int least) {
        assertEquals(averaged, g.averaged(), g.label());
        assertEquals(layers, g.layers(), g.label());
        assertArrayEquals(means, g.means(), 0.0, g.label());
        assertEquals(least, g.least(), g.label());
    }
}
