package io.layerscope.plot;

import java.awt.Graphics2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.CrosshairState;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.PlotRenderingInfo;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYItemRendererState;
import org.jfree.data.xy.IntervalXYDataset;
import org.jfree.data.xy.XYDataset;

/**
 * Draws each series of an interval dataset (vertical plots only) as one filled shape, the union of
 * its bars, instead of one fill per bar: adjacent bars then meet without the hairline seams that
 * filling them one by one leaves where their shared edge falls inside a pixel (with or without
 * antialiasing), and a histogram costs one fill whatever its number of bins.
 */
final class UnionBarRenderer extends XYBarRenderer {
    private static final long serialVersionUID = 1L;

    UnionBarRenderer() {
        super(0);
        setUseYInterval(true);
        setShadowVisible(false);
        setDrawBarOutline(false);
        setDefaultToolTipGenerator(null);
    }

    @Override
    public void drawItem(Graphics2D g2, XYItemRendererState state, Rectangle2D dataArea, PlotRenderingInfo info,
            XYPlot plot, ValueAxis domainAxis, ValueAxis rangeAxis, XYDataset dataset, int series, int item,
            CrosshairState crosshairState, int pass) {
        if (item != 0 || !getItemVisible(series, item) || plot.getOrientation() != PlotOrientation.VERTICAL) {
            return;
        }
        IntervalXYDataset bars = (IntervalXYDataset) dataset;
        Path2D.Double union = new Path2D.Double(Path2D.WIND_NON_ZERO);
        for (int i = 0; i < bars.getItemCount(series); i++) {
            double x0 = domainAxis.valueToJava2D(bars.getStartXValue(series, i), dataArea, plot.getDomainAxisEdge());
            double x1 = domainAxis.valueToJava2D(bars.getEndXValue(series, i), dataArea, plot.getDomainAxisEdge());
            double y0 = rangeAxis.valueToJava2D(bars.getStartYValue(series, i), dataArea, plot.getRangeAxisEdge());
            double y1 = rangeAxis.valueToJava2D(bars.getEndYValue(series, i), dataArea, plot.getRangeAxisEdge());
            if (Double.isFinite(x0 + x1 + y0 + y1)) {
                union.append(new Rectangle2D.Double(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0),
                        Math.abs(y1 - y0)), false);
            }
        }
        g2.setPaint(getItemPaint(series, 0));
        g2.fill(union);
    }
}
