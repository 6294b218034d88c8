package io.layerscope.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;

/**
 * The look shared by all panels, modelled on matplotlib's defaults: white background, black frame
 * around each plot, ticks outside, no grid, the tab10 colours, DejaVu-like sans-serif text. Sizes
 * scale with the figure width (2400 px is 1.0) so smaller figures stay proportioned.
 */
final class FigureStyle {
    /** matplotlib's tab10 "C0" blue, "C1" orange, "C2" green, "C3" red. */
    static final Color BLUE = new Color(0x1F77B4);
    static final Color ORANGE = new Color(0xFF7F0E);
    static final Color GREEN = new Color(0x2CA02C);
    static final Color RED = new Color(0xD62728);
    static final Color TEXT = new Color(0x1A1A1A);
    static final Color FRAME = new Color(0x333333);
    static final Color LIGHT_FRAME = new Color(0xBBBBBB);

    private static final BufferedImage MEASURING_IMAGE = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);

    private final double scale;

    FigureStyle(int figureWidth) {
        this.scale = figureWidth / 2400.0;
    }

    int px(double size) {
        return Math.max(1, (int) Math.round(size * scale));
    }

    Font tickFont() {
        return new Font(Font.SANS_SERIF, Font.PLAIN, px(17));
    }

    Font axisLabelFont() {
        return new Font(Font.SANS_SERIF, Font.PLAIN, px(20));
    }

    Font panelTitleFont() {
        return new Font(Font.SANS_SERIF, Font.BOLD, px(22));
    }

    Font annotationFont() {
        return new Font(Font.SANS_SERIF, Font.PLAIN, px(15));
    }

    Font figureTitleFont() {
        return new Font(Font.SANS_SERIF, Font.BOLD, px(32));
    }

    Font figureSubtitleFont() {
        return new Font(Font.SANS_SERIF, Font.PLAIN, px(22));
    }

    Font statisticsFont(int size) {
        return new Font(Font.MONOSPACED, Font.PLAIN, size);
    }

    int statisticsFontSize() {
        return px(25);
    }

    /** Height the x axis of {@code plot} takes below the data area, measured with the figure's hints. */
    double xAxisHeight(XYPlot plot) {
        Graphics2D g2 = MEASURING_IMAGE.createGraphics();
        try {
            applyHints(g2);
            return plot.getDomainAxis().reserveSpace(g2, plot, new Rectangle2D.Double(0, 0, 800, 600),
                    RectangleEdge.BOTTOM, null).getBottom();
        } finally {
            g2.dispose();
        }
    }

    /** Antialiased shapes and text, fractional font metrics. */
    static void applyHints(Graphics2D g2) {
        g2.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g2.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g2.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
    }

    /** Ticks outside, black labels, no axis line (the plot frame draws the spines). */
    void style(ValueAxis axis) {
        axis.setTickLabelFont(tickFont());
        axis.setLabelFont(axisLabelFont());
        axis.setTickLabelPaint(TEXT);
        axis.setLabelPaint(TEXT);
        axis.setAxisLineVisible(false);
        axis.setTickMarkPaint(FRAME);
        axis.setTickMarkStroke(new BasicStroke(1.2f));
        axis.setTickMarkInsideLength(0);
        axis.setTickMarkOutsideLength(px(6));
        axis.setMinorTickMarkOutsideLength(px(3));
        axis.setMinorTickMarkInsideLength(0);
        axis.setTickLabelInsets(new RectangleInsets(px(3), px(3), px(3), px(3)));
        axis.setLabelInsets(new RectangleInsets(px(4), px(4), px(4), px(4)));
    }

    void style(XYPlot plot) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlinePaint(FRAME);
        plot.setOutlineStroke(new BasicStroke(1.2f));
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        plot.setDomainMinorGridlinesVisible(false);
        plot.setRangeMinorGridlinesVisible(false);
        plot.setAxisOffset(RectangleInsets.ZERO_INSETS);
        plot.setInsets(new RectangleInsets(px(4), px(4), px(4), px(4)));
        style(plot.getDomainAxis());
        style(plot.getRangeAxis());
        // JFreeChart draws outside tick marks over the label insets: keep labels clear of them. It offsets
        // labels by the top inset at the bottom edge and by the left inset at the left edge.
        int clear = tickLabelClearance();
        plot.getDomainAxis().setTickLabelInsets(new RectangleInsets(clear, px(3), px(3), px(3)));
        plot.getRangeAxis().setTickLabelInsets(new RectangleInsets(px(3), clear, px(3), px(3)));
    }

    /** Space between the axis line and its tick labels: the outside tick mark plus a gap. */
    int tickLabelClearance() {
        return px(6) + px(5);
    }

    /** A panel chart with a bold title and no legend, drawn antialiased. */
    JFreeChart chart(String title, XYPlot plot) {
        style(plot);
        JFreeChart chart = new JFreeChart(title, panelTitleFont(), plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setBorderVisible(false);
        chart.setPadding(new RectangleInsets(px(12), px(14), px(14), px(18)));
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        TextTitle t = chart.getTitle();
        t.setPaint(TEXT);
        t.setPadding(new RectangleInsets(px(2), 0, px(10), 0));
        return chart;
    }

    /**
     * A panel chart whose shapes are all axis-aligned (plot frame, ticks, bars, images): drawn without
     * shape antialiasing, which only blurs their edges here, while the text stays antialiased. Java2D's
     * antialiasing rasteriser and its warm-up were about a fifth of a picture's cost.
     */
    JFreeChart axisAlignedChart(String title, XYPlot plot) {
        JFreeChart chart = chart(title, plot);
        chart.setAntiAlias(false);
        return chart;
    }
}
