package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.junit.jupiter.api.Test;

class DepthPanelsTest {
    private static final DepthPanels PANELS = new DepthPanels(new FigureStyle(1600 * 3 / 2));
    private static final OverviewChart.Depth DEPTH = new OverviewChart.Depth(0, 5, true);

    private static XYSeriesCollection data(JFreeChart chart) {
        return (XYSeriesCollection) ((XYPlot) chart.getPlot()).getDataset();
    }

    /** x and y of every point of a series, as {x0, y0, x1, y1, ...}. */
    private static double[] points(XYSeries s) {
        double[] p = new double[2 * s.getItemCount()];
        for (int i = 0; i < s.getItemCount(); i++) {
            p[2 * i] = s.getX(i).doubleValue();
            p[2 * i + 1] = s.getY(i).doubleValue();
        }
        return p;
    }

    private static String note(JFreeChart chart) {
        return ((TextTitle) chart.getSubtitle(0)).getText();
    }

    @Test
    void influenceDrawsBothSeriesFromZeroOnALinearAxis() {
        JFreeChart chart = PANELS.influence(SweepSummaries.blocks(6), DEPTH);
        XYSeriesCollection data = data(chart);
        assertEquals(2, data.getSeriesCount());
        assertArrayEquals(new double[] {0, 0.05, 1, 0.06, 2, 0.07, 3, 0.08, 4, 0.09, 5, 0.10},
                points(data.getSeries(DepthPanels.INFLUENCE_SERIES)), 1e-12);
        assertArrayEquals(new double[] {0, 0.20, 1, 0.22, 2, 0.24, 3, 0.26, 4, 0.28, 5, 0.30},
                points(data.getSeries(DepthPanels.DISTANCE_SERIES)), 1e-12);
        NumberAxis y = (NumberAxis) ((XYPlot) chart.getPlot()).getRangeAxis();
        assertEquals(0.30 * 1.12, y.getUpperBound(), 1e-12, "the largest of both series, with room above");
        assertEquals(-0.03 * 0.30 * 1.12, y.getLowerBound(), 1e-12);
        NumberAxis x = (NumberAxis) ((XYPlot) chart.getPlot()).getDomainAxis();
        assertEquals(-0.5, x.getLowerBound());
        assertEquals(6.5, x.getUpperBound(), "the same x range as the panels above, lm_head's place included");
    }

    @Test
    void topAbsIsOnALogAxisWithTheMassiveBlocksApart() {
        JFreeChart chart = PANELS.topAbs(SweepSummaries.blocks(6), DEPTH);
        XYSeriesCollection data = data(chart);
        assertArrayEquals(new double[] {0, 5, 1, 15, 2, 45, 3, 135, 4, 405, 5, 1215},
                points(data.getSeries(DepthPanels.TOP_ABS_SERIES)), 1e-9);
        assertArrayEquals(new double[] {3, 135, 4, 405, 5, 1215}, points(data.getSeries(DepthPanels.MASSIVE_SERIES)), 1e-9);
        LogAxis y = assertInstanceOf(LogAxis.class, ((XYPlot) chart.getPlot()).getRangeAxis());
        // 5 / 1.6 = 3.1 rounds down to 10^0, 1215 * 1.6 = 1944 up to 10^4
        assertEquals(1, y.getLowerBound(), 1e-9);
        assertEquals(1e4, y.getUpperBound(), 1e-6);
        assertEquals("shaded, filled: massive, > 100 and > 1000 \u00d7 the block's median |h| (Sun et al.); 3 of 6 blocks", note(chart));
    }

    @Test
    void valuesThatCannotBeDrawnAreLeftOut() {
        List<BlockSummary> blocks = List.of(new BlockSummary(0, Double.NaN, 0.2, 0.0, false),
                new BlockSummary(1, 0.1, Double.NaN, Double.NaN, true),
                new BlockSummary(2, 0.3, 0.4, 250.0, true),
                new BlockSummary(3, 0.0, 0.1, Double.POSITIVE_INFINITY, false));
        XYSeriesCollection influence = data(PANELS.influence(blocks, DEPTH));
        assertArrayEquals(new double[] {1, 0.1, 2, 0.3, 3, 0.0}, points(influence.getSeries(0)), 1e-12);
        assertArrayEquals(new double[] {0, 0.2, 2, 0.4, 3, 0.1}, points(influence.getSeries(1)), 1e-12);
        JFreeChart top = PANELS.topAbs(blocks, DEPTH);
        assertArrayEquals(new double[] {2, 250}, points(data(top).getSeries(0)), 1e-12, "no 0, NaN or infinity on a log axis");
        assertArrayEquals(new double[] {2, 250}, points(data(top).getSeries(1)), 1e-12, "block 1 is flagged but has no value");
        LogAxis y = (LogAxis) ((XYPlot) top.getPlot()).getRangeAxis();
        assertEquals(100, y.getLowerBound(), 1e-9);
        assertEquals(1000, y.getUpperBound(), 1e-9);
        assertEquals("shaded, filled: massive, > 100 and > 1000 \u00d7 the block's median |h| (Sun et al.); 2 of 4 blocks", note(top));
    }

    @Test
    void blocksWithoutAnyValueGiveEmptyPanels() {
        List<BlockSummary> blocks = List.of(new BlockSummary(0, Double.NaN, Double.NaN, Double.NaN, false),
                new BlockSummary(1, Double.NaN, Double.NaN, 0.0, false));
        JFreeChart influence = PANELS.influence(blocks, DEPTH);
        assertEquals(0, data(influence).getSeries(0).getItemCount() + data(influence).getSeries(1).getItemCount());
        NumberAxis linear = (NumberAxis) ((XYPlot) influence.getPlot()).getRangeAxis();
        assertEquals(1, linear.getUpperBound());
        JFreeChart top = PANELS.topAbs(blocks, DEPTH);
        assertEquals(0, data(top).getSeries(0).getItemCount());
        LogAxis log = (LogAxis) ((XYPlot) top.getPlot()).getRangeAxis();
        assertEquals(1, log.getLowerBound());
        assertEquals(10, log.getUpperBound());
        assertEquals("shaded, filled: massive, > 100 and > 1000 \u00d7 the block's median |h| (Sun et al.); none in this run", note(top));
    }

    @Test
    void logRangeIsWholeDecades() {
        assertArrayEquals(new double[] {1, 1e4}, DepthPanels.logRange(5, 1215), 1e-9);
        assertArrayEquals(new double[] {10, 100}, DepthPanels.logRange(20, 50), 1e-9, "12.5 to 80, within one decade");
        assertArrayEquals(new double[] {0.01, 0.1}, DepthPanels.logRange(0.05, 0.05), 1e-12, "one value: 0.031 to 0.08");
        assertArrayEquals(new double[] {1, 10}, DepthPanels.logRange(Double.NaN, Double.NaN));
        assertArrayEquals(new double[] {1, 10}, DepthPanels.logRange(0, 0));
        assertArrayEquals(new double[] {1, 10}, DepthPanels.logRange(-3, 5));
    }

    @Test
    void consecutiveMassiveBlocksShareOneBand() {
        List<BlockSummary> blocks = new java.util.ArrayList<>();
        for (int b : new int[] {7, 1, 2, 3, 5, 8}) {   // any order, as the table's rows
            blocks.add(new BlockSummary(b, 0.1, 0.1, 500, true));
        }
        blocks.add(new BlockSummary(4, 0.1, 0.1, 5, false));
        blocks.add(new BlockSummary(6, 0.1, 0.1, 5, false));
        List<int[]> runs = DepthPanels.massiveRuns(blocks);
        assertEquals(3, runs.size());
        assertArrayEquals(new int[] {1, 3}, runs.get(0));
        assertArrayEquals(new int[] {5, 5}, runs.get(1));
        assertArrayEquals(new int[] {7, 8}, runs.get(2));
        assertEquals(3, ((XYPlot) PANELS.topAbs(blocks, DEPTH).getPlot()).getDomainMarkers(Layer.BACKGROUND).size());
        assertEquals(List.of(), DepthPanels.massiveRuns(SweepSummaries.blocks(3)));
    }

    @Test
    void aBlockSummaryNeedsABlock() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BlockSummary(-1, 0, 0, 0, false));
        assertEquals("block summary: block -1 must be a decoder block index (0 or more)", e.getMessage());
    }
}
