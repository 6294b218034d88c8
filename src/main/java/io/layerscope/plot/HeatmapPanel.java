package io.layerscope.plot;

import java.awt.Color;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;

/**
 * A heatmap panel: the reduced matrix drawn as an image ({@link HeatmapAnnotation}) with output rows
 * downwards from the top (like matplotlib's {@code imshow}), input features across, the block size
 * in the axis titles, and a colour bar on the right, level with the plot, in powers of ten when the
 * scale is logarithmic.
 */
final class HeatmapPanel {
    private HeatmapPanel() {
    }

    /** The axis title, e.g. {@code "input feature (block max over 4)"}. */
    static String axisTitle(String name, int block) {
        return block > 1 ? name + " (block max over " + block + ")" : name;
    }

    static JFreeChart chart(String title, String quantity, ReducedMatrix m, int out, int in, FigureStyle style) {
        HeatmapColorScale colors = HeatmapColorScale.fit(ColorMap.VIRIDIS, m);
        NumberAxis x = featureAxis(axisTitle("input feature", m.colBlock()), in);
        NumberAxis y = featureAxis(axisTitle("output row", m.rowBlock()), out);
        y.setInverted(true);
        XYPlot plot = new XYPlot(null, x, y, null);
        plot.addAnnotation(new HeatmapAnnotation(m, out, in, colors), false);
        JFreeChart chart = style.axisAlignedChart(colors.isLogarithmic() ? title + " (log colour scale)" : title, plot);
        chart.addSubtitle(legend(quantity, colors, plot, style));
        return chart;
    }

    private static NumberAxis featureAxis(String label, int size) {
        NumberAxis axis = new NumberAxis(label);
        axis.setAutoRangeIncludesZero(false);
        axis.setRange(0, size);
        TickSpacing.apply(axis, true, null);
        return axis;
    }

    private static PaintScaleLegend legend(String quantity, HeatmapColorScale colors, XYPlot plot, FigureStyle style) {
        NumberAxis axis = new NumberAxis(quantity);
        axis.setAutoRangeIncludesZero(false);
        axis.setRange(colors.getLowerBound(), colors.getUpperBound());
        style.style(axis);
        // A right-edge axis offsets its labels by the right inset.
        axis.setTickLabelInsets(new RectangleInsets(style.px(3), style.px(3), style.px(3), style.tickLabelClearance()));
        if (colors.isLogarithmic()) {
            TickSpacing.apply(axis, true, PowerOfTenFormat.ofExponents());
        } else {
            TickSpacing.apply(axis, false, null);
        }
        PaintScaleLegend legend = new PaintScaleLegend(colors, axis);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setAxisLocation(AxisLocation.TOP_OR_RIGHT);
        legend.setSubdivisionCount(256);
        legend.setStripWidth(style.px(22));
        legend.setAxisOffset(0);
        legend.setStripOutlineVisible(true);
        legend.setStripOutlinePaint(FigureStyle.FRAME);
        legend.setBackgroundPaint(Color.WHITE);
        legend.setFrame(BlockBorder.NONE);
        legend.setPadding(RectangleInsets.ZERO_INSETS);
        // Level with the plot frame: skip the plot's top inset, and the x axis below it.
        RectangleInsets insets = plot.getInsets();
        double xAxisHeight = style.xAxisHeight(plot);
        legend.setMargin(new RectangleInsets(insets.getTop(), style.px(16), insets.getBottom() + xAxisHeight, 0));
        return legend;
    }
}
