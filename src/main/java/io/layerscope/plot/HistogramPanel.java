package io.layerscope.plot;

import io.layerscope.stats.Histogram;
import java.awt.Color;
import java.text.DecimalFormat;
import java.text.NumberFormat;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.TickUnits;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYIntervalSeries;
import org.jfree.data.xy.XYIntervalSeriesCollection;

/**
 * A histogram panel with logarithmic counts. Bins are given with log-spaced edges, so the x axis is
 * logarithmic too when every edge is positive and the edges span at least one decade (a narrower
 * span would show no power-of-ten tick; it is drawn on a linear axis instead, bars keeping their
 * true widths). Zero counts have no logarithm: those bins are left empty, and bars rise from
 * {@value #COUNT_FLOOR} so that a count of one is still visible.
 */
final class HistogramPanel {
    /** Bottom of the count axis; bars start here. */
    static final double COUNT_FLOOR = 0.5;

    private HistogramPanel() {
    }

    /** True when the histogram is drawn on a logarithmic x axis. */
    static boolean logarithmicX(Histogram h) {
        double first = h.lower(0);
        double last = h.upper(h.bins() - 1);
        return first > 0 && last / first >= 10;
    }

    static JFreeChart chart(String title, String quantity, Histogram h, Color color, FigureStyle style) {
        boolean logX = logarithmicX(h);
        XYIntervalSeries bars = new XYIntervalSeries("count");
        long maxCount = 0;
        for (int k = 0; k < h.bins(); k++) {
            long c = h.count(k);
            maxCount = Math.max(maxCount, c);
            if (c > 0) {
                double lo = h.lower(k);
                double hi = h.upper(k);
                double centre = logX ? Math.sqrt(lo * hi) : (lo + hi) / 2;
                bars.add(centre, lo, hi, c, COUNT_FLOOR, c);
            }
        }
        XYIntervalSeriesCollection data = new XYIntervalSeriesCollection();
        data.addSeries(bars);

        UnionBarRenderer renderer = new UnionBarRenderer();
        renderer.setSeriesPaint(0, color);

        ValueAxis x;
        if (logX) {
            x = logAxis(quantity);
            x.setRange(h.lower(0), h.upper(h.bins() - 1));
        } else {
            NumberAxis linear = new NumberAxis(quantity);
            linear.setAutoRangeIncludesZero(false);
            linear.setRange(h.lower(0), h.upper(h.bins() - 1));
            TickSpacing.apply(linear, false, null);
            x = linear;
        }
        LogAxis y = logAxis("count");
        // Headroom of a factor 3 above the tallest bar, at least one decade shown.
        y.setRange(COUNT_FLOOR, Math.max(10, maxCount * 3.0));
        XYPlot plot = new XYPlot(data, x, y, renderer);
        return style.axisAlignedChart(title, plot);
    }

    /** A base-10 axis labelled at whole powers of ten ("10³") with minor ticks at 2..9 times them. */
    static LogAxis logAxis(String label) {
        LogAxis axis = new LogAxis(label);
        axis.setBase(10);
        axis.setBaseSymbol("10");
        NumberFormat exponent = new DecimalFormat("0");   // unit sizes are in decades; labels come from the override
        TickUnits units = new TickUnits();
        units.add(new NumberTickUnit(1, exponent, 9));
        for (double size : new double[] {2, 3, 4, 5, 10, 20}) {
            units.add(new NumberTickUnit(size, exponent, 0));
        }
        axis.setStandardTickUnits(units);
        axis.setNumberFormatOverride(PowerOfTenFormat.ofValues());
        axis.setMinorTickMarksVisible(true);
        axis.setAutoRange(false);
        return axis;
    }
}
