package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.stats.Histogram;
import java.awt.Color;
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
}
