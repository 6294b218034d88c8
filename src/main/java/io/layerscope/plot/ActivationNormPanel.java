package io.layerscope.plot;

import java.awt.BasicStroke;
import java.awt.geom.Ellipse2D;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The activation norm per input feature as a line over the feature index, with the largest features
 * marked and numbered (the outlier features Wanda's metric amplifies). The y axis is logarithmic when
 * the norms are all positive and span more than {@value HeatmapColorScale#LOG_SPAN} times, as in LLaMA
 * layers with massive activations.
 */
final class ActivationNormPanel {
    /** How many of the largest features are marked. */
    static final int MARKED = 5;
    /** The panel's width in a 2400 px figure (FigureLayout's first column), an upper bound on the plot's. */
    private static final int PANEL_WIDTH = 960;

    private ActivationNormPanel() {
    }

    /** True when the norms are drawn on a logarithmic axis. */
    static boolean logarithmicY(LayerPlotData d) {
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (int j = 0; j < d.inFeatures(); j++) {
            min = Math.min(min, d.activationNorm(j));
            max = Math.max(max, d.activationNorm(j));
        }
        return min > 0 && max / min > HeatmapColorScale.LOG_SPAN;
    }

    /**
     * The features the line goes through: all of them when there are at most 4 per bucket, else per
     * bucket (narrower than a pixel: {@code buckets} is at least the plot's width in pixels) the first,
     * the smallest, the largest and the last, in index order. Drawn, that is the same line (every
     * column keeps its extremes and its joins to its neighbours) at a fraction of the points: a
     * 14336-feature down_proj was slow to stroke antialiased, point by point.
     */
    static int[] linePoints(LayerPlotData d, int buckets) {
        int n = d.inFeatures();
        if (n <= 4 * buckets) {
            return IntStream.range(0, n).toArray();
        }
        // Buckets are in index order and each one's kept indices lie inside it, so appending them in
        // order and skipping repeats of the last one gives them sorted and distinct.
        int[] kept = new int[4 * buckets];
        int size = 0;
        for (int b = 0; b < buckets; b++) {
            int from = (int) ((long) b * n / buckets);
            int to = (int) ((long) (b + 1) * n / buckets);
            int lo = from;
            int hi = from;
            for (int j = from; j < to; j++) {
                if (d.activationNorm(j) < d.activationNorm(lo)) {
                    lo = j;
                }
                if (d.activationNorm(j) > d.activationNorm(hi)) {
                    hi = j;
                }
            }
            for (int j : new int[] {from, Math.min(lo, hi), Math.max(lo, hi), to - 1}) {
                if (size == 0 || j > kept[size - 1]) {
                    kept[size++] = j;
                }
            }
        }
        return java.util.Arrays.copyOf(kept, size);
    }

    /** Indices of the {@code count} largest norms, largest first (lower index first among ties). */
    static int[] largest(LayerPlotData d, int count) {
        return IntStream.range(0, d.inFeatures()).boxed()
                .sorted(Comparator.comparingDouble((Integer j) -> -d.activationNorm(j)).thenComparingInt(j -> j))
                .limit(count).mapToInt(Integer::intValue).toArray();
    }

    static JFreeChart chart(String title, LayerPlotData d, FigureStyle style) {
        XYSeries line = new XYSeries("activation norm", false, true);
        double max = largestNorm(d);
        for (int j : linePoints(d, style.px(PANEL_WIDTH))) {
            line.add(j, d.activationNorm(j), false);
        }
        int[] top = largest(d, Math.min(MARKED, d.inFeatures()));
        XYSeries marks = new XYSeries("largest", false, true);
        for (int j : top) {
            marks.add(j, d.activationNorm(j), false);
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(line);
        data.addSeries(marks);

        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        renderer.setDrawSeriesLineAsPath(true);
        renderer.setSeriesLinesVisible(0, true);
        renderer.setSeriesShapesVisible(0, false);
        renderer.setSeriesPaint(0, FigureStyle.ORANGE);
        renderer.setSeriesStroke(0, new BasicStroke(style.px(1.6)));
        renderer.setSeriesLinesVisible(1, false);
        renderer.setSeriesShapesVisible(1, true);
        renderer.setSeriesShapesFilled(1, false);
        renderer.setSeriesPaint(1, FigureStyle.RED);
        renderer.setSeriesStroke(1, new BasicStroke(style.px(2.2)));
        double r = style.px(7);
        renderer.setSeriesShape(1, new Ellipse2D.Double(-r, -r, 2 * r, 2 * r));

        NumberAxis x = new NumberAxis("input feature");
        x.setAutoRangeIncludesZero(false);
        x.setRange(0, Math.max(1, d.inFeatures() - 1));
        TickSpacing.apply(x, true, null);
        boolean logY = logarithmicY(d);
        ValueAxis y;
        if (logY) {
            y = HistogramPanel.logAxis("activation norm \u2016X\u2c7c\u2016\u2082/\u221aN");
            y.setAutoRange(true);
            y.setUpperMargin(0.15);
        } else {
            NumberAxis linear = new NumberAxis("activation norm \u2016X\u2c7c\u2016\u2082/\u221aN");
            linear.setRange(0, max > 0 ? max * 1.15 : 1);
            TickSpacing.apply(linear, false, null);
            y = linear;
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        for (XYTextAnnotation label : labels(d, top, style, logY, max)) {
            plot.addAnnotation(label, false);
        }
        return style.chart(title, plot);
    }

    /**
     * The largest activation norm. A method of its own so that its loop, not the chart's long body with
     * JFreeChart inlined, is what the JIT compiles on the stack once it has run long enough.
     */
    private static double largestNorm(LayerPlotData d) {
        double max = 0;
        for (int j = 0; j < d.inFeatures(); j++) {
            max = Math.max(max, d.activationNorm(j));
        }
        return max;
    }

    /**
     * Feature numbers beside the marked points, skipping any that would crowd an earlier label: one
     * within 8% of the x range and 6% of the y range (a label's width and height, about) of it.
     */
    private static List<XYTextAnnotation> labels(LayerPlotData d, int[] top, FigureStyle style, boolean logY, double max) {
        List<XYTextAnnotation> labels = new ArrayList<>();
        List<Integer> placed = new ArrayList<>();
        double minGap = 0.08 * d.inFeatures();
        double[] y = heightsInPlot(d, top, logY, max);
        for (int i = 0; i < top.length; i++) {
            int j = top[i];
            double h = y[i];
            if (placed.stream().anyMatch(p -> Math.abs(top[p] - j) < minGap && Math.abs(y[p] - h) < 0.06)) {
                continue;
            }
            placed.add(i);
            XYTextAnnotation label = new XYTextAnnotation(" " + j, j, d.activationNorm(j));
            label.setFont(style.annotationFont());
            label.setPaint(FigureStyle.RED);
            // Right of the point, or left of it near the right edge so the text stays inside.
            label.setTextAnchor(j > 0.85 * d.inFeatures() ? TextAnchor.BOTTOM_RIGHT : TextAnchor.BOTTOM_LEFT);
            labels.add(label);
        }
        return labels;
    }

    /** Where each of {@code top}'s points sits between the y axis's ends, 0 to 1 (as the axis is chosen above). */
    private static double[] heightsInPlot(LayerPlotData d, int[] top, boolean logY, double max) {
        double[] y = new double[top.length];
        if (logY) {
            double min = Double.POSITIVE_INFINITY;
            for (int j = 0; j < d.inFeatures(); j++) {
                min = Math.min(min, d.activationNorm(j));
            }
            double span = Math.log(max / min) * 1.15;   // the axis's upper margin
            for (int i = 0; i < top.length; i++) {
                y[i] = Math.log(d.activationNorm(top[i]) / min) / span;
            }
        } else {
            for (int i = 0; i < top.length; i++) {
                y[i] = max > 0 ? d.activationNorm(top[i]) / (max * 1.15) : 0;
            }
        }
        return y;
    }
}
