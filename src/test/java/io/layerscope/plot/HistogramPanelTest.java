package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.stats.Histogram;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.data.xy.IntervalXYDataset;
import org.junit.jupiter.api.Test;

class HistogramPanelTest {
    private final FigureStyle style = new FigureStyle(2400);

    @Test
    void logXOnlyForPositiveEdgesSpanningADecade() {
        assertTrue(HistogramPanel.logarithmicX(Histogram.of(new double[] {1e-4, 1e-2, 1}, new long[] {1, 1})));
        assertTrue(HistogramPanel.logarithmicX(Histogram.of(new double[] {1, 3, 10}, new long[] {1, 1})));
        assertFalse(HistogramPanel.logarithmicX(Histogram.of(new double[] {0, 1, 10}, new long[] {1, 1})));
        assertFalse(HistogramPanel.logarithmicX(Histogram.of(new double[] {1, 3, 9.9}, new long[] {1, 1})));
    }

    @Test
    void zeroCountsAreLeftOutAndBarsRiseFromTheFloor() {
        Histogram h = Histogram.of(new double[] {0.001, 0.01, 0.1, 1, 10}, new long[] {5, 0, 1200, 1});
        JFreeChart chart = HistogramPanel.chart("t", "|W|", h, Color.BLUE, style);
        IntervalXYDataset bars = (IntervalXYDataset) chart.getXYPlot().getDataset();
        assertEquals(3, bars.getItemCount(0));
        assertEquals(0.001, bars.getStartXValue(0, 0));
        assertEquals(0.01, bars.getEndXValue(0, 0));
        assertEquals(1200, bars.getYValue(0, 1));
        assertEquals(0.1, bars.getStartXValue(0, 1));
        assertEquals(HistogramPanel.COUNT_FLOOR, bars.getStartYValue(0, 2));
        assertTrue(chart.getXYPlot().getDomainAxis() instanceof LogAxis);
        LogAxis counts = (LogAxis) chart.getXYPlot().getRangeAxis();
        assertEquals(HistogramPanel.COUNT_FLOOR, counts.getLowerBound());
        assertEquals(3600, counts.getUpperBound());
    }

    @Test
    void narrowOrNonPositiveEdgesUseALinearAxis() {
        Histogram h = Histogram.of(new double[] {0, 0.5, 1}, new long[] {2, 0});
        JFreeChart chart = HistogramPanel.chart("t", "x", h, Color.BLUE, style);
        assertTrue(chart.getXYPlot().getDomainAxis() instanceof NumberAxis);
        assertEquals(10, chart.getXYPlot().getRangeAxis().getUpperBound());
    }

    @Test
    void adjacentBarsMeetWithoutSeamsAndAnEmptyBinStaysEmpty() {
        // 100 log-spaced bins over 7 decades: bar edges fall at fractional pixels, where bars filled one
        // by one left hairline seams. Bin 60 is empty and must show as a gap.
        int bins = 100;
        double[] edges = new double[bins + 1];
        long[] counts = new long[bins];
        for (int k = 0; k <= bins; k++) {
            edges[k] = Math.pow(10, -8 + 7.0 * k / bins);
        }
        java.util.Arrays.fill(counts, 1000);
        counts[60] = 0;
        JFreeChart chart = HistogramPanel.chart("t", "|W|", Histogram.of(edges, counts), Color.BLUE, style);
        BufferedImage image = new BufferedImage(800, 600, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = image.createGraphics();
        ChartRenderingInfo info = new ChartRenderingInfo();
        chart.draw(g2, new Rectangle2D.Double(0, 0, 800, 600), info);
        g2.dispose();
        Rectangle2D area = info.getPlotInfo().getDataArea();
        org.jfree.chart.plot.XYPlot plot = chart.getXYPlot();
        int y = (int) plot.getRangeAxis().valueToJava2D(10, area, plot.getRangeAxisEdge());
        int blue = Color.BLUE.getRGB();
        int gapFrom = (int) Math.ceil(plot.getDomainAxis().valueToJava2D(edges[60], area, plot.getDomainAxisEdge()));
        int gapTo = (int) Math.floor(plot.getDomainAxis().valueToJava2D(edges[61], area, plot.getDomainAxisEdge()));
        int seams = 0;
        for (int x = (int) Math.ceil(area.getMinX()) + 1; x < (int) area.getMaxX() - 1; x++) {
            boolean inGap = x >= gapFrom && x < gapTo;
            if (!inGap && x != gapFrom - 1 && x != gapTo && image.getRGB(x, y) != blue) {
                seams++;
            }
        }
        assertEquals(0, seams, "pixels not of the bar colour between bars, on the row at count 10");
        assertEquals(0xFFFFFF, image.getRGB((gapFrom + gapTo) / 2, y) & 0xFFFFFF, "the empty bin is white");
    }
}
