package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.junit.jupiter.api.Test;

class OverviewChartTest {
    private static final double NOT_BLANK = 8;
    private static final CalibrationSummary C4 = new CalibrationSummary("c4", 128, 2048, 0);

    private static BufferedImage render(List<LayerSummary> layers) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(new OverviewChart().renderPng("meta-llama/Llama-3.2-1B", C4, layers)));
    }

    /** Pixels in {@code region} within a small distance of colour {@code rgb}. */
    private static int pixelsOf(BufferedImage image, Rectangle region, int rgb) {
        int n = 0;
        for (int y = region.y; y < region.y + region.height; y++) {
            for (int x = region.x; x < region.x + region.width; x++) {
                int p = image.getRGB(x, y);
                int d = Math.abs(((p >> 16) & 0xFF) - ((rgb >> 16) & 0xFF)) + Math.abs(((p >> 8) & 0xFF) - ((rgb >> 8) & 0xFF))
                        + Math.abs((p & 0xFF) - (rgb & 0xFF));
                n += d <= 12 ? 1 : 0;
            }
        }
        return n;
    }

    @Test
    void fullSweepHasTheDefaultSizeAndEveryPanelShowsEveryKind() throws IOException {
        OverviewChart chart = new OverviewChart();
        BufferedImage image = render(SweepSummaries.sweep(16, true));
        assertEquals(1600, image.getWidth());
        assertEquals(1200, image.getHeight());
        assertTrue(PixelStatistics.luminanceStd(image, chart.title()) > NOT_BLANK, "title");
        assertTrue(PixelStatistics.luminanceStd(image, chart.legend()) > NOT_BLANK, "legend");
        for (int r = 0; r < OverviewChart.ROWS; r++) {
            for (int c = 0; c < OverviewChart.COLUMNS; c++) {
                Rectangle panel = chart.panel(r, c);
                assertTrue(PixelStatistics.luminanceStd(image, panel) > NOT_BLANK, "panel " + r + ", " + c);
                for (String kind : SweepSummaries.KINDS) {
                    assertTrue(pixelsOf(image, panel, KindStyle.rgb(kind)) > 50,
                            "panel " + r + ", " + c + " should draw " + kind + " in " + KindStyle.hex(kind));
                }
                assertTrue(pixelsOf(image, panel, KindStyle.rgb("lm_head")) > 10, "lm_head's grey marker in panel " + r + ", " + c);
            }
        }
        for (String kind : SweepSummaries.KINDS) {
            assertTrue(pixelsOf(image, chart.legend(), KindStyle.rgb(kind)) > 20, kind + " in the legend");
        }
    }

    @Test
    void oneLayerIsDrawnInEveryPanel() throws IOException {
        OverviewChart chart = new OverviewChart();
        BufferedImage image = render(List.of(SweepSummaries.layer(3, 6)));
        assertEquals(1600, image.getWidth());
        for (int r = 0; r < OverviewChart.ROWS; r++) {
            for (int c = 0; c < OverviewChart.COLUMNS; c++) {
                assertTrue(pixelsOf(image, chart.panel(r, c), KindStyle.rgb("down_proj")) > 20,
                        "the single down_proj point in panel " + r + ", " + c);
            }
        }
    }

    @Test
    void aSequentialRunAddsARowOfDriftAndSparsityBelow() throws IOException {
        List<LayerSummary> layers = new java.util.ArrayList<>();
        for (LayerSummary l : SweepSummaries.sweep(6, false)) {
            int kind = SweepSummaries.KINDS.indexOf(l.kind());   // apart per kind, so no line hides another
            LayerSummary drift = TestSummaries.with(l, "drift_mask_agreement", 1 - 0.01 * l.block() - 0.003 * kind);
            layers.add(TestSummaries.with(drift, "sparsity_actual", 0.45 + 0.02 * l.block() + 0.004 * kind));
        }
        OverviewChart chart = new OverviewChart();
        BufferedImage image = render(layers);
        Rectangle below = chart.panel(2, 0);
        assertEquals(chart.panel(1, 0).y + chart.panel(1, 0).height, below.y);
        assertEquals(below.y + below.height + chart.title().y, image.getHeight(), "the picture grows by one row of panels");
        for (int c = 0; c < OverviewChart.COLUMNS; c++) {
            assertTrue(pixelsOf(image, chart.panel(2, c), KindStyle.rgb("down_proj")) > 50, "down_proj in panel 2, " + c);
        }
        assertEquals(1200, render(SweepSummaries.sweep(6, false)).getHeight(), "a dense run keeps four panels");
    }

    @Test
    void lmHeadIsNoDepthPoint() {
        List<LayerSummary> layers = SweepSummaries.sweep(16, true);
        OverviewChart.Depth depth = OverviewChart.Depth.of(layers);
        assertEquals(new OverviewChart.Depth(0, 15, true), depth);
        JFreeChart chart = new OverviewChart().chart(OverviewChart.Metric.AGREE_ROW, layers,
                KindStyle.sorted(layers.stream().map(LayerSummary::kind).toList()), depth);
        XYSeriesCollection data = (XYSeriesCollection) ((XYPlot) chart.getPlot()).getDataset();
        assertEquals(8, data.getSeriesCount());
        XYSeries q = data.getSeries("q_proj");
        assertEquals(16, q.getItemCount());
        for (int b = 0; b < 16; b++) {
            assertEquals(b, q.getX(b).doubleValue());
            assertEquals(0.7 + 0.001 * b, q.getY(b).doubleValue(), 1e-12);
        }
        XYSeries head = data.getSeries("lm_head");
        assertEquals(1, head.getItemCount());
        assertEquals(16.0, head.getX(0).doubleValue(), "one step after the last block");
        NumberAxis x = (NumberAxis) ((XYPlot) chart.getPlot()).getDomainAxis();
        assertEquals(-0.5, x.getLowerBound());
        assertEquals(16.5, x.getUpperBound());
        assertEquals("head", new OverviewChart.BlockFormat(16).format(16));
        assertEquals("15", new OverviewChart.BlockFormat(16).format(15));
        assertEquals(1, ((XYPlot) chart.getPlot()).getDomainMarkers(org.jfree.chart.ui.Layer.FOREGROUND).size(),
                "a separator between the blocks and lm_head");
    }

    @Test
    void meansSpanningDecadesUseALogAxis() {
        List<LayerSummary> layers = new ArrayList<>(SweepSummaries.sweep(4, false));
        LayerSummary d = layers.get(6);   // block 0 down_proj: a massive activation
        layers.set(6, TestSummaries.with(d, "act_norm_mean", 500.0));
        OverviewChart.Depth depth = OverviewChart.Depth.of(layers);
        List<String> kinds = SweepSummaries.KINDS;
        OverviewChart chart = new OverviewChart();
        assertInstanceOf(LogAxis.class, rangeAxis(chart.chart(OverviewChart.Metric.ACT_NORM_MEAN, layers, kinds, depth)));
        assertInstanceOf(NumberAxis.class, rangeAxis(chart.chart(OverviewChart.Metric.WANDA_MEAN, layers, kinds, depth)));
        NumberAxis outliers = (NumberAxis) rangeAxis(chart.chart(OverviewChart.Metric.OUTLIER_M5, layers, kinds, depth));
        assertTrue(outliers.getLowerBound() < 0 && outliers.getLowerBound() > -0.001, "ratios start at 0, just below for the frame");
        NumberAxis agreement = (NumberAxis) rangeAxis(chart.chart(OverviewChart.Metric.AGREE_ROW, layers, kinds, depth));
        assertTrue(agreement.getLowerBound() > 0.6, "agreement is fitted to its data, lower bound " + agreement.getLowerBound());
    }

    private static org.jfree.chart.axis.ValueAxis rangeAxis(JFreeChart chart) {
        return ((XYPlot) chart.getPlot()).getRangeAxis();
    }

    @Test
    void missingValuesAreLeftOut() {
        LayerSummary nan = TestSummaries.of("model.layers.1.self_attn.q_proj", 1, "q_proj", 8, 8, Double.NaN, 0.1, 0.8,
                0.8, 0.8, 0.1, 0.01, 0.0);
        List<LayerSummary> layers = List.of(SweepSummaries.layer(0, 0), nan);
        JFreeChart chart = new OverviewChart().chart(OverviewChart.Metric.ACT_NORM_MEAN, layers, List.of("q_proj"),
                OverviewChart.Depth.of(layers));
        assertEquals(1, ((XYSeriesCollection) ((XYPlot) chart.getPlot()).getDataset()).getSeries(0).getItemCount());
    }

    @Test
    void subtitleCountsLayersAndBlocks() {
        assertEquals("113 layers in 16 blocks (0\u201315) + lm_head   \u00b7   calibration: c4, 128 \u00d7 2048 tokens, seed 0",
                OverviewChart.subtitle(C4, 113, OverviewChart.Depth.of(SweepSummaries.sweep(16, true))));
        assertEquals("1 layer in block 3   \u00b7   calibration: c4, 128 \u00d7 2048 tokens, seed 0",
                OverviewChart.subtitle(C4, 1, OverviewChart.Depth.of(List.of(SweepSummaries.layer(3, 0)))));
        OverviewChart.Depth headOnly = OverviewChart.Depth.of(List.of(SweepSummaries.head()));
        assertEquals("1 layer in no decoder block + lm_head   \u00b7   calibration: c4, 128 \u00d7 2048 tokens, seed 0",
                OverviewChart.subtitle(C4, 1, headOnly));
        assertEquals(0.0, headOnly.headX());
        assertFalse(headOnly.blocks() > 0);
    }

    @Test
    void headOnlyIsDrawn() throws IOException {
        BufferedImage image = render(List.of(SweepSummaries.head()));
        assertTrue(pixelsOf(image, new OverviewChart().panel(0, 0), KindStyle.rgb("lm_head")) > 10);
    }

    @Test
    void noLayersIsRefused() {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> new OverviewChart().render("demo", C4, List.of()));
        assertEquals("overview of demo: no layers to draw; the sweep analysed none", e.getMessage());
    }

    @Test
    void tooSmallIsRefused() {
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> new OverviewChart(500, 400));
        assertEquals("overview picture size 500 x 400 px is too small for four readable panels; use at least 600 x 450",
                e.getMessage());
    }

    @Test
    void panelsTileTheAreaBelowTheLegend() {
        OverviewChart chart = new OverviewChart();
        Rectangle legend = chart.legend();
        assertEquals(chart.title().y + chart.title().height, legend.y);
        assertEquals(legend.y + legend.height, chart.panel(0, 0).y);
        assertEquals(chart.panel(0, 0).x + chart.panel(0, 0).width, chart.panel(0, 1).x);
        assertEquals(chart.panel(0, 0).y + chart.panel(0, 0).height, chart.panel(1, 0).y);
        assertEquals(1600 - chart.title().x, chart.panel(1, 1).x + chart.panel(1, 1).width);
        assertEquals(1200 - chart.title().y, chart.panel(1, 1).y + chart.panel(1, 1).height);
    }
}
