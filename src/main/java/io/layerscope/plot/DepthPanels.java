package io.layerscope.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import java.util.stream.DoubleStream;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.SeriesRenderingOrder;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The overview's row of depth panels, from the {@code blocks} table: block influence and angular
 * distance to the next block (both from 0, on a linear axis) beside the largest |h| of each block's
 * output on a log axis, the blocks with a massive activation shaded. Each panel has its own
 * legend: the layer-kind legend of the overview does not apply to these lines. The colours are the
 * two tab10 colours no known layer kind uses, and a dark slate, so no line reads as a kind.
 */
final class DepthPanels {
    static final Color INFLUENCE = new Color(0x17BECF);   // tab10 C9
    static final Color DISTANCE = new Color(0xBCBD22);    // tab10 C8
    static final Color TOP_ABS = new Color(0x2F4F4F);
    /** Behind a massive block: a light red no marker or line uses (tab10's red is o_proj's). */
    static final Color MASSIVE_BAND = new Color(0xF6CFCB);
    static final String INFLUENCE_SERIES = "block influence";
    static final String DISTANCE_SERIES = "angular distance to the next block";
    static final String TOP_ABS_SERIES = "largest |h| of the block output";
    static final String MASSIVE_SERIES = "massive activation";

    private final FigureStyle style;

    DepthPanels(FigureStyle style) {
        this.style = style;
    }

    /** Block influence and angular distance to the next block; NaN values are left out. */
    JFreeChart influence(List<BlockSummary> blocks, OverviewChart.Depth depth) {
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(series(INFLUENCE_SERIES, blocks, BlockSummary::blockInfluence, false));
        data.addSeries(series(DISTANCE_SERIES, blocks, BlockSummary::angularDistanceNext, false));
        XYLineAndShapeRenderer renderer = renderer();
        double r = style.px(7.5);
        line(renderer, 0, INFLUENCE, new Ellipse2D.Double(-r, -r, 2 * r, 2 * r));
        line(renderer, 1, DISTANCE, new Rectangle2D.Double(-0.85 * r, -0.85 * r, 1.7 * r, 1.7 * r));
        double max = blocks.stream().flatMapToDouble(b -> DoubleStream.of(b.blockInfluence(), b.angularDistanceNext()))
                .filter(Double::isFinite).max().orElse(0);
        double upper = max > 0 ? max * 1.12 : 1;
        NumberAxis y = new NumberAxis("1 \u2212 cos  and  angle / \u03c0");
        y.setAutoRangeIncludesZero(false);
        // a little room below 0, as the outlier ratio panel: points at 0 stay clear of the frame
        y.setRange(-0.03 * upper, upper);
        TickSpacing.apply(y, false, null);
        return chart("Block influence and angular distance to the next block",
                "influence: mean 1 \u2212 cos(h in, h out) over all tokens; distance: arccos(cos) / \u03c0 on last tokens",
                new XYPlot(data, depth.axis(), y, renderer), depth);
    }

    /** The largest |h| of each block's output on a log axis; values that are not positive (or NaN) are left out. */
    JFreeChart topAbs(List<BlockSummary> blocks, OverviewChart.Depth depth) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYSeries top = series(TOP_ABS_SERIES, blocks, BlockSummary::topAbs, true);
        data.addSeries(top);
        data.addSeries(series(MASSIVE_SERIES, blocks.stream().filter(BlockSummary::massive).toList(), BlockSummary::topAbs,
                true));
        XYLineAndShapeRenderer renderer = renderer();
        double r = style.px(7.5);
        line(renderer, 0, TOP_ABS, new Ellipse2D.Double(-r, -r, 2 * r, 2 * r));
        // the massive blocks again, filled (so they show without colour too), over a band across the plot
        renderer.setSeriesPaint(1, TOP_ABS);
        renderer.setSeriesLinesVisible(1, false);
        renderer.setSeriesShape(1, new Ellipse2D.Double(-r, -r, 2 * r, 2 * r));
        renderer.setSeriesShapesFilled(1, true);
        LogAxis y = HistogramPanel.logAxis("largest |h|");
        double[] range = logRange(top.isEmpty() ? Double.NaN : top.getMinY(), top.isEmpty() ? Double.NaN : top.getMaxY());
        y.setRange(range[0], range[1]);
        long massive = blocks.stream().filter(BlockSummary::massive).count();
        String note = "shaded, filled: massive, > 100 and > 1000 \u00d7 the block's median |h| (Sun et al.); "
                + (massive == 0 ? "none in this run" : massive + " of " + blocks.size() + " blocks");
        XYPlot plot = new XYPlot(data, depth.axis(), y, renderer);
        plot.setSeriesRenderingOrder(SeriesRenderingOrder.FORWARD);   // the filled markers over the line
        for (int[] run : massiveRuns(blocks)) {
            IntervalMarker band = new IntervalMarker(run[0] - 0.5, run[1] + 0.5, MASSIVE_BAND);
            band.setAlpha(1f);
            plot.addDomainMarker(band, Layer.BACKGROUND);
        }
        return chart("Largest |h| of each block's output", note, plot, depth);
    }

    /**
     * Whole decades around {@code [min, max]} (positive), so the axis always has two labelled powers
     * of ten; 1 to 10 when there is no positive value to draw.
     */
    static double[] logRange(double min, double max) {
        if (!(min > 0 && max >= min) || Double.isInfinite(max)) {
            return new double[] {1, 10};
        }
        double lower = Math.pow(10, Math.floor(Math.log10(min / 1.6)));
        double upper = Math.pow(10, Math.ceil(Math.log10(max * 1.6)));
        return new double[] {lower, upper};
    }

    /**
     * The massive blocks as runs of consecutive blocks, {first, last} each: one band per run, because
     * bands side by side show a seam where their antialiased edges meet.
     */
    static List<int[]> massiveRuns(List<BlockSummary> blocks) {
        int[] massive = blocks.stream().filter(BlockSummary::massive).mapToInt(BlockSummary::block).sorted().distinct()
                .toArray();
        List<int[]> runs = new ArrayList<>();
        for (int i = 0; i < massive.length; i++) {
            int first = massive[i];
            while (i + 1 < massive.length && massive[i + 1] == massive[i] + 1) {
                i++;
            }
            runs.add(new int[] {first, massive[i]});
        }
        return runs;
    }

    /** One point per block with a value that can be drawn: finite, and positive for a log axis. */
    private static XYSeries series(String name, List<BlockSummary> blocks, ToDoubleFunction<BlockSummary> value,
                                   boolean logAxis) {
        XYSeries s = new XYSeries(name, true, false);
        for (BlockSummary b : blocks) {
            double v = value.applyAsDouble(b);
            if (Double.isFinite(v) && (!logAxis || v > 0)) {
                s.add(b.block(), v);
            }
        }
        return s;
    }


    private XYLineAndShapeRenderer renderer() {
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        // legend entries as the overview's kind legend draws them: a line segment with the marker on it
        renderer.setLegendLine(new Line2D.Double(-style.px(23), 0, style.px(23), 0));
        renderer.setDrawSeriesLineAsPath(true);
        renderer.setDrawOutlines(true);
        renderer.setUseOutlinePaint(false);
        return renderer;
    }

    /** A line in the overview's stroke with hollow markers, as the layer kinds are drawn. */
    private void line(XYLineAndShapeRenderer renderer, int series, Color colour, Shape marker) {
        BasicStroke stroke = new BasicStroke(style.px(2.6f), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
        renderer.setSeriesPaint(series, colour);
        renderer.setSeriesStroke(series, stroke);
        renderer.setSeriesOutlineStroke(series, stroke);
        renderer.setSeriesShape(series, marker);
        renderer.setSeriesShapesFilled(series, false);
    }

    /** A panel like the overview's others (title, note line), plus a legend of its series below the note. */
    private JFreeChart chart(String title, String note, XYPlot plot, OverviewChart.Depth depth) {
        depth.markHead(plot, style);
        JFreeChart chart = style.chart(title, plot);
        TextTitle noteTitle = new TextTitle(note, style.annotationFont());
        noteTitle.setPaint(new Color(0x555555));
        noteTitle.setPadding(new RectangleInsets(0, 0, style.px(6), 0));
        chart.addSubtitle(noteTitle);
        LegendTitle legend = new LegendTitle(plot);
        legend.setItemFont(style.annotationFont());
        legend.setItemPaint(FigureStyle.TEXT);
        legend.setFrame(BlockBorder.NONE);
        legend.setBackgroundPaint(Color.WHITE);
        legend.setPosition(RectangleEdge.TOP);
        legend.setPadding(new RectangleInsets(0, 0, style.px(6), 0));
        chart.addSubtitle(legend);
        return chart;
    }
}
