package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartRenderingInfo;
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

    private static BufferedImage render(List<LayerSummary> layers, List<BlockSummary> blocks) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(new OverviewChart().renderPng("meta-llama/Llama-3.2-1B", null, C4, layers,
                blocks)));
    }

    /** The data area of a depth panel drawn into {@code panel}, so a count leaves out its legend's markers. */
    private static Rectangle dataArea(boolean influence, List<LayerSummary> layers, List<BlockSummary> blocks,
                                      Rectangle panel) {
        DepthPanels panels = new DepthPanels(new FigureStyle(OverviewChart.DEFAULT_WIDTH * 3 / 2));
        OverviewChart.Depth depth = OverviewChart.Depth.of(layers).spanning(blocks);
        JFreeChart chart = influence ? panels.influence(blocks, depth) : panels.topAbs(blocks, depth);
        BufferedImage scratch = new BufferedImage(panel.x + panel.width, panel.y + panel.height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = scratch.createGraphics();
        ChartRenderingInfo info = new ChartRenderingInfo();
        try {
            FigureStyle.applyHints(g2);
            chart.draw(g2, panel, info);
        } finally {
            g2.dispose();
        }
        return info.getPlotInfo().getDataArea().getBounds();
    }

    /** Pixels within a small distance of {@code rgb} in the column of block {@code block} (x from b - 0.5 to b + 0.5). */
    private static int pixelsAtBlock(BufferedImage image, Rectangle area, int rgb, int block, OverviewChart.Depth depth) {
        double perBlock = area.width / (depth.upper() - depth.lower());
        int x0 = (int) Math.ceil(area.x + (block - 0.5 - depth.lower()) * perBlock);
        int x1 = (int) Math.floor(area.x + (block + 0.5 - depth.lower()) * perBlock);
        return pixelsOf(image, new Rectangle(x0, area.y, x1 - x0, area.height), rgb);
    }

    @Test
    void depthResultsAddARowOfDepthPanelsAndLeaveTheOthersAsTheyWere() throws IOException {
        OverviewChart chart = new OverviewChart();
        List<LayerSummary> layers = SweepSummaries.sweep(6, true);
        List<BlockSummary> blocks = SweepSummaries.blocks(6);
        BufferedImage without = render(layers);
        BufferedImage with = render(layers, blocks);
        Rectangle influence = chart.panel(2, 0);
        Rectangle top = chart.panel(2, 1);
        assertEquals(chart.panel(1, 0).y + chart.panel(1, 0).height, influence.y);
        assertEquals(1200 + influence.height, with.getHeight(), "the picture grows by one row of panels");
        assertEquals(with.getHeight(), chart.imageHeight(layers, blocks));
        assertEquals(1200, chart.imageHeight(layers, List.of()));
        for (int y = 0; y < without.getHeight(); y++) {
            for (int x = 0; x < without.getWidth(); x++) {
                if (with.getRGB(x, y) != without.getRGB(x, y)) {
                    throw new AssertionError("pixel (" + x + ", " + y + ") of the panels above changed");
                }
            }
        }
        Rectangle influenceData = dataArea(true, layers, blocks, influence);
        assertTrue(influence.contains(influenceData));
        assertTrue(pixelsOf(with, influenceData, DepthPanels.INFLUENCE.getRGB()) > 200, "block influence in panel 2, 0");
        assertTrue(pixelsOf(with, influenceData, DepthPanels.DISTANCE.getRGB()) > 200, "angular distance in panel 2, 0");
        assertEquals(0, pixelsOf(with, influenceData, DepthPanels.MASSIVE_BAND.getRGB()), "the bands are beside top |h| only");
        Rectangle topData = dataArea(false, layers, blocks, top);
        assertTrue(pixelsOf(with, topData, DepthPanels.TOP_ABS.getRGB()) > 200, "top |h| in panel 2, 1");
        assertEquals(0, pixelsOf(with, topData, DepthPanels.INFLUENCE.getRGB()));
        // blocks 3, 4 and 5 are massive (SweepSummaries.blocks): a band behind each, none behind 0 to 2
        OverviewChart.Depth depth = OverviewChart.Depth.of(layers);
        for (int b = 0; b < 6; b++) {
            int band = pixelsAtBlock(with, topData, DepthPanels.MASSIVE_BAND.getRGB(), b, depth);
            assertTrue(b >= 3 ? band > topData.height * 10 : band == 0, "band behind block " + b + ": " + band + " px");
        }
        for (int c = 0; c < OverviewChart.COLUMNS; c++) {
            for (String kind : SweepSummaries.KINDS) {
                assertEquals(0, pixelsOf(with, chart.panel(2, c), KindStyle.rgb(kind)), kind + "'s colour in panel 2, " + c);
            }
        }
    }

    @Test
    void theTopAbsLineRisesAsTheValues() throws IOException {
        // top |h| = 5 * 3^b: on a log axis the points step up by the same height per block
        List<LayerSummary> layers = SweepSummaries.sweep(6, true);
        BufferedImage image = render(layers, SweepSummaries.blocks(6));
        Rectangle area = dataArea(false, layers, SweepSummaries.blocks(6), new OverviewChart().panel(2, 1));
        OverviewChart.Depth depth = OverviewChart.Depth.of(layers);
        double[] centre = new double[6];
        for (int b = 0; b < 6; b++) {
            double perBlock = area.width / (depth.upper() - depth.lower());
            int x = (int) Math.round(area.x + (b - depth.lower()) * perBlock);
            long sum = 0;
            int n = 0;
            for (int y = area.y; y < area.y + area.height; y++) {
                if (pixelsOf(image, new Rectangle(x, y, 1, 1), DepthPanels.TOP_ABS.getRGB()) == 1) {
                    sum += y;
                    n++;
                }
            }
            assertTrue(n > 0, "a marker at block " + b);
            centre[b] = (double) sum / n;
        }
        // the axis runs over 10^0 .. 10^4: log10(3) / 4 of the height per block
        double step = area.height * Math.log10(3) / 4;
        for (int b = 1; b < 6; b++) {
            assertEquals(step, centre[b - 1] - centre[b], 4, "rise from block " + (b - 1) + " to " + b);
        }
    }

    @Test
    void noBandWithoutAMassiveBlock() throws IOException {
        List<BlockSummary> none = SweepSummaries.blocks(6).stream()
                .map(b -> new BlockSummary(b.block(), b.blockInfluence(), b.angularDistanceNext(), b.topAbs(), false)).toList();
        BufferedImage image = render(SweepSummaries.sweep(6, true), none);
        assertEquals(0, pixelsOf(image, new OverviewChart().panel(2, 1), DepthPanels.MASSIVE_BAND.getRGB()));
    }

    @Test
    void inSequentialModeTheDepthPanelsComeLast() throws IOException {
        List<LayerSummary> layers = new ArrayList<>();
        for (LayerSummary l : SweepSummaries.sweep(6, false)) {
            layers.add(TestSummaries.with(TestSummaries.with(l, "drift_mask_agreement", 0.9), "sparsity_actual", 0.5));
        }
        OverviewChart chart = new OverviewChart();
        BufferedImage image = render(layers, SweepSummaries.blocks(6));
        Rectangle influence = chart.panel(3, 0);
        assertEquals(influence.y + influence.height + chart.title().y, image.getHeight(), "four rows of panels");
        assertEquals(image.getHeight(), chart.imageHeight(layers, SweepSummaries.blocks(6)));
        assertTrue(pixelsOf(image, influence, DepthPanels.INFLUENCE.getRGB()) > 200);
        assertTrue(pixelsOf(image, chart.panel(3, 1), DepthPanels.MASSIVE_BAND.getRGB()) > 1000);
        assertEquals(0, pixelsOf(image, chart.panel(2, 0), DepthPanels.INFLUENCE.getRGB()));
        assertTrue(pixelsOf(image, chart.panel(2, 0), KindStyle.rgb("q_proj")) > 50, "the drift panel, where it was");
    }

    @Test
    void blocksWithoutValuesAreDrawnAsEmptyPanels() throws IOException {
        List<LayerSummary> layers = SweepSummaries.sweep(2, true);
        List<BlockSummary> blocks = List.of(new BlockSummary(0, Double.NaN, Double.NaN, Double.NaN, true),
                new BlockSummary(1, Double.NaN, Double.NaN, 0.0, false));
        OverviewChart chart = new OverviewChart();
        BufferedImage image = render(layers, blocks);
        assertEquals(chart.imageHeight(layers, blocks), image.getHeight());
        for (int c = 0; c < OverviewChart.COLUMNS; c++) {
            assertTrue(PixelStatistics.luminanceStd(image, chart.panel(2, c)) > NOT_BLANK, "frame and axes of panel 2, " + c);
        }
        Rectangle influence = dataArea(true, layers, blocks, chart.panel(2, 0));
        assertEquals(0, pixelsOf(image, influence, DepthPanels.INFLUENCE.getRGB()) + pixelsOf(image, influence,
                DepthPanels.DISTANCE.getRGB()), "no value to draw");
        Rectangle top = dataArea(false, layers, blocks, chart.panel(2, 1));
        assertEquals(0, pixelsOf(image, top, DepthPanels.TOP_ABS.getRGB()), "nothing to draw on the log axis");
        assertTrue(pixelsOf(image, top, DepthPanels.MASSIVE_BAND.getRGB()) > 0, "block 0 is flagged: its band is drawn");
    }

    @Test
    void theXRangeCoversTheBlocksOfBothTables() {
        OverviewChart.Depth block3 = OverviewChart.Depth.of(List.of(SweepSummaries.layer(3, 0)));
        assertEquals(new OverviewChart.Depth(0, 3, false), block3.spanning(SweepSummaries.blocks(4)));
        assertEquals(block3, block3.spanning(List.of()));
        OverviewChart.Depth headOnly = OverviewChart.Depth.of(List.of(SweepSummaries.head()));
        assertEquals(new OverviewChart.Depth(0, 1, true), headOnly.spanning(SweepSummaries.blocks(2)));
        assertEquals(2.0, headOnly.spanning(SweepSummaries.blocks(2)).headX(), "lm_head after the last block run");
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
                OverviewChart.subtitle(null, C4, 113, OverviewChart.Depth.of(SweepSummaries.sweep(16, true))));
        assertEquals("1 layer in block 3   \u00b7   calibration: c4, 128 \u00d7 2048 tokens, seed 0",
                OverviewChart.subtitle(null, C4, 1, OverviewChart.Depth.of(List.of(SweepSummaries.layer(3, 0)))));
        OverviewChart.Depth headOnly = OverviewChart.Depth.of(List.of(SweepSummaries.head()));
        assertEquals("1 layer in no decoder block + lm_head   \u00b7   calibration: c4, 128 \u00d7 2048 tokens, seed 0",
                OverviewChart.subtitle(null, C4, 1, headOnly));
        assertEquals("1 layer in block 3   \u00b7   sequential pruning (Wanda's, block by block), masks at sparsity 0.5"
                        + "   \u00b7   calibration: c4, 128 \u00d7 2048 tokens, seed 0",
                OverviewChart.subtitle("sequential pruning (Wanda's, block by block), masks at sparsity 0.5", C4, 1,
                        OverviewChart.Depth.of(List.of(SweepSummaries.layer(3, 0)))));
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
