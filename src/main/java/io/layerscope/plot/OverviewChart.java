package io.layerscope.plot;

import io.layerscope.LayerscopeException;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The overview of a sweep (PNG): four line charts across depth, x = decoder block, one line per layer
 * kind in the colour and marker of {@link KindStyle}, under a title and one legend for all panels,
 * and below them a row of depth panels from the {@code blocks} table ({@link DepthPanels}, their own
 * legends) when the run has one:
 *
 * <pre>
 *   mean Wanda metric                    OWL outlier ratio (M = 5)
 *   Wanda vs magnitude mask agreement    mean activation norm
 *   sequential vs dense mask agreement   sparsity pruned at        (sequential mode only)
 *   block influence, angular distance    largest |h| (log axis)    (with the blocks table)
 * </pre>
 *
 * lm_head is not a point along the depth: it is drawn apart, as a grey diamond one step after the
 * last block beyond a dotted line. Means are drawn on a logarithmic axis when they span more than
 * {@value HeatmapColorScale#LOG_SPAN} times (massive activations grow with depth in LLaMA models).
 * Immutable; one instance may be shared.
 *
 * <pre>{@code
 * byte[] png = new OverviewChart().renderPng("meta-llama/Llama-3.2-1B", "dense model, masks at sparsity 0.5",
 *         new CalibrationSummary("c4", 128, 2048, 0), summaries, blockSummaries);
 * }</pre>
 */
public final class OverviewChart {
    public static final int DEFAULT_WIDTH = 1600;
    public static final int DEFAULT_HEIGHT = 1200;
    public static final int ROWS = 2;
    public static final int COLUMNS = 2;
    private static final int MIN_WIDTH = 600;
    private static final int MIN_HEIGHT = 450;

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** What each panel shows, in reading order. */
    enum Metric {
        WANDA_MEAN("Mean Wanda metric |W|\u00b7\u2016X\u2016", "mean |W\u1d62\u2c7c|\u00b7\u2016X\u2c7c\u2016\u2082/\u221aN",
                "mean over all out \u00d7 in entries of the layer", l -> l.value("wanda_mean"), Scale.MEAN),
        OUTLIER_M5("Outlier ratio per layer (M = 5)", "share of entries",
                "share of Wanda metric entries above 5 \u00d7 the layer's mean", l -> l.value("outlier_ratio_m5"),
                Scale.SHARE_FROM_ZERO),
        AGREE_ROW("Wanda vs magnitude mask agreement", "share of equal mask entries",
                "per-row masks at the layer's sparsity; 1 = Wanda prunes exactly what magnitude prunes",
                l -> l.value("agree_wanda_magnitude_row"), Scale.SHARE_FITTED),
        ACT_NORM_MEAN("Mean activation norm \u2016X\u2016", "mean \u2016X\u2c7c\u2016\u2082/\u221aN",
                "N = calibration sequences; q, k, v read the same input, as do gate and up: their lines coincide",
                l -> l.value("act_norm_mean"), Scale.MEAN),
        /** Sequential mode only: how far the masks Wanda makes while pruning are from the dense ones. */
        DRIFT_MASKS("Sequential vs dense Wanda mask agreement", "share of equal mask entries",
                "1 = pruning the blocks before changed nothing; block 0 sees the dense inputs",
                l -> l.value("drift_mask_agreement"), Scale.SHARE_FITTED),
        /** Sequential mode only: the share each layer's mask pruned (its block's allocated sparsity). */
        SPARSITY_PRUNED("Sparsity each layer was pruned at", "share of weights pruned",
                "share of entries its mask prunes: the block's allocated sparsity, rounded down per row",
                l -> l.value("sparsity_actual"), Scale.SHARE_FITTED);

        /** The panels of a run: the last two only where the layers have sequential-mode values. */
        static List<Metric> of(List<LayerSummary> layers) {
            boolean sequential = layers.stream().anyMatch(l -> Double.isFinite(l.value("drift_mask_agreement")));
            return sequential ? List.of(values()) : List.of(WANDA_MEAN, OUTLIER_M5, AGREE_ROW, ACT_NORM_MEAN);
        }

        final String title;
        final String axisLabel;
        final String note;
        final ToDoubleFunction<LayerSummary> value;
        final Scale scale;

        Metric(String title, String axisLabel, String note, ToDoubleFunction<LayerSummary> value, Scale scale) {
            this.title = title;
            this.axisLabel = axisLabel;
            this.note = note;
            this.value = value;
            this.scale = scale;
        }
    }

    /** How a panel's y range is chosen. */
    enum Scale {
        /** From 0, or logarithmic when positive and spanning more than LOG_SPAN. */
        MEAN,
        /** From 0 (a ratio near 0 should look near 0). */
        SHARE_FROM_ZERO,
        /** Around the data, never below 0 (agreements sit between 0.5 and 1). */
        SHARE_FITTED
    }

    private final int width;
    private final int height;
    private final FigureStyle style;
    private final Rectangle title;
    private final Rectangle legend;
    private final Rectangle[][] panels = new Rectangle[ROWS][COLUMNS];
    private final int panelHeight;
    private final int margin;

    /** A 1600 x 1200 px picture. */
    public OverviewChart() {
        this(DEFAULT_WIDTH, DEFAULT_HEIGHT);
    }

    /** A {@code width x height} px picture (at least 600 x 450); text scales with the width. */
    public OverviewChart(int width, int height) {
        if (width < MIN_WIDTH || height < MIN_HEIGHT) {
            throw new LayerscopeException("overview picture size " + width + " x " + height
                    + " px is too small for four readable panels; use at least " + MIN_WIDTH + " x " + MIN_HEIGHT);
        }
        this.width = width;
        this.height = height;
        // Text half as large again as on the layer pictures: the overview is looked at whole, at page width.
        this.style = new FigureStyle(width * 3 / 2);
        margin = (int) Math.round(width * 0.01);
        int titleHeight = (int) Math.round(width * 0.065);
        int legendHeight = (int) Math.round(width * 0.035);
        title = new Rectangle(margin, margin, width - 2 * margin, titleHeight);
        legend = new Rectangle(margin, margin + titleHeight, width - 2 * margin, legendHeight);
        int top = legend.y + legendHeight;
        int innerHeight = height - top - margin;
        int innerWidth = width - 2 * margin;
        panelHeight = innerHeight / ROWS;
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < COLUMNS; c++) {
                int x = margin + c * innerWidth / COLUMNS;
                int y = top + r * innerHeight / ROWS;
                panels[r][c] = new Rectangle(x, y, margin + (c + 1) * innerWidth / COLUMNS - x,
                        top + (r + 1) * innerHeight / ROWS - y);
            }
        }
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The band of the title and subtitle. */
    public Rectangle title() {
        return new Rectangle(title);
    }

    /** The band of the legend shared by all panels. */
    public Rectangle legend() {
        return new Rectangle(legend);
    }

    /**
     * The area of panel {@code (row, column)}, counted from 0 at the top left; rows past the second
     * (sequential mode's panels, the depth panels) continue below at the same height.
     */
    public Rectangle panel(int row, int column) {
        if (row < ROWS) {
            return new Rectangle(panels[row][column]);
        }
        Rectangle above = panels[ROWS - 1][column];
        return new Rectangle(above.x, above.y + above.height + (row - ROWS) * panelHeight, above.width, panelHeight);
    }

    /** The overview of {@code layers} (any order; at least one) as a new RGB image, without depth panels. */
    public BufferedImage render(String model, CalibrationSummary calibration, List<LayerSummary> layers) {
        return render(model, null, calibration, layers, List.of());
    }

    /**
     * The overview of {@code layers} (any order; at least one) as a new RGB image, with a row of depth
     * panels below the others when {@code blocks} (the {@code blocks} table's rows, any order) is not empty.
     * {@code view}: what the statistics see, as the report's header says it ("dense model, masks at
     * sparsity 0.5"), in the subtitle; null for none.
     */
    public BufferedImage render(String model, String view, CalibrationSummary calibration, List<LayerSummary> layers,
                                List<BlockSummary> blocks) {
        if (layers.isEmpty()) {
            throw new LayerscopeException("overview of " + model + ": no layers to draw; the sweep analysed none");
        }
        Depth analysed = Depth.of(layers);
        Depth depth = analysed.spanning(blocks);
        List<String> kinds = KindStyle.sorted(layers.stream().map(LayerSummary::kind).toList());
        List<Metric> metrics = Metric.of(layers);
        int imageHeight = imageHeight(layers, blocks);
        BufferedImage image = new BufferedImage(width, imageHeight, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = image.createGraphics();
        try {
            FigureStyle.applyHints(g2);
            g2.setColor(Color.WHITE);
            g2.fillRect(0, 0, width, imageHeight);
            drawTitle(g2, model, view, calibration, layers.size(), analysed);
            drawLegend(g2, kinds);
            for (int i = 0; i < metrics.size(); i++) {
                chart(metrics.get(i), layers, kinds, depth).draw(g2, panel(i / COLUMNS, i % COLUMNS));
            }
            if (!blocks.isEmpty()) {
                DepthPanels panels = new DepthPanels(style);
                int row = metricRows(metrics);
                panels.influence(blocks, depth).draw(g2, panel(row, 0));
                panels.topAbs(blocks, depth).draw(g2, panel(row, 1));
            }
        } finally {
            g2.dispose();
        }
        return image;
    }

    /**
     * Height of the picture {@link #render(String, CalibrationSummary, List, List)} draws: more panels
     * (sequential mode, depth) make it taller, not the panels smaller.
     */
    public int imageHeight(List<LayerSummary> layers, List<BlockSummary> blocks) {
        int rows = metricRows(Metric.of(layers)) + (blocks.isEmpty() ? 0 : 1);
        return height + (rows - ROWS) * panelHeight;
    }

    private static int metricRows(List<Metric> metrics) {
        return (metrics.size() + COLUMNS - 1) / COLUMNS;
    }

    /** The overview as PNG bytes, without depth panels. */
    public byte[] renderPng(String model, CalibrationSummary calibration, List<LayerSummary> layers) {
        return renderPng(model, null, calibration, layers, List.of());
    }

    /** The overview as PNG bytes, with the depth panels when {@code blocks} is not empty. */
    public byte[] renderPng(String model, String view, CalibrationSummary calibration, List<LayerSummary> layers,
                            List<BlockSummary> blocks) {
        return PngEncoder.encode(render(model, view, calibration, layers, blocks));
    }

    /** The blocks drawn along x, and where lm_head goes (one step after the last block). */
    record Depth(int firstBlock, int lastBlock, boolean hasHead) {
        static Depth of(List<LayerSummary> layers) {
            int first = layers.stream().filter(LayerSummary::inBlock).mapToInt(LayerSummary::block).min().orElse(0);
            int last = layers.stream().filter(LayerSummary::inBlock).mapToInt(LayerSummary::block).max().orElse(-1);
            boolean head = layers.stream().anyMatch(l -> !l.inBlock());
            return new Depth(Math.min(first, last + 1), last, head);
        }

        double headX() {
            return lastBlock + 1;
        }

        double x(LayerSummary l) {
            return l.inBlock() ? l.block() : headX();
        }

        double lower() {
            return firstBlock - 0.5;
        }

        double upper() {
            return (hasHead ? headX() : Math.max(lastBlock, firstBlock)) + 0.5;
        }

        int blocks() {
            return lastBlock - firstBlock + 1;
        }

        /** The same x range widened to every block of {@code more}, so the depth panels line up with the others. */
        Depth spanning(List<BlockSummary> more) {
            if (more.isEmpty()) {
                return this;
            }
            int first = more.stream().mapToInt(BlockSummary::block).min().getAsInt();
            int last = more.stream().mapToInt(BlockSummary::block).max().getAsInt();
            return blocks() > 0 ? new Depth(Math.min(firstBlock, first), Math.max(lastBlock, last), hasHead)
                    : new Depth(first, last, hasHead);
        }

        /** The x axis: blocks, and "head" for lm_head's place. */
        NumberAxis axis() {
            NumberAxis x = new NumberAxis("decoder block");
            x.setAutoRangeIncludesZero(false);
            x.setRange(lower(), upper());
            TickSpacing.apply(x, true, new BlockFormat(hasHead ? headX() : Double.NaN));
            return x;
        }

        /** A dotted line between the last block and lm_head, when both are drawn. */
        void markHead(XYPlot plot, FigureStyle style) {
            if (hasHead && blocks() > 0) {
                plot.addDomainMarker(new ValueMarker(headX() - 0.5, FigureStyle.LIGHT_FRAME,
                        new BasicStroke(style.px(1.5f), BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10,
                                new float[] {style.px(5f), style.px(5f)}, 0)));
            }
        }
    }

    JFreeChart chart(Metric metric, List<LayerSummary> layers, List<String> kinds, Depth depth) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        renderer.setDrawSeriesLineAsPath(true);
        renderer.setDrawOutlines(true);
        renderer.setUseOutlinePaint(false);
        double min = Double.POSITIVE_INFINITY;
        double minPositive = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (String kind : kinds) {
            XYSeries s = new XYSeries(kind, true, true);
            for (LayerSummary l : layers) {
                double v = metric.value.applyAsDouble(l);
                if (l.kind().equals(kind) && Double.isFinite(v)) {
                    s.add(depth.x(l), v);
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                    if (v > 0) {
                        minPositive = Math.min(minPositive, v);
                    }
                }
            }
            int i = data.getSeriesCount();
            data.addSeries(s);
            Color c = KindStyle.color(kind);
            renderer.setSeriesPaint(i, c);
            BasicStroke stroke = new BasicStroke(style.px(2.6f), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
            renderer.setSeriesStroke(i, stroke);
            renderer.setSeriesOutlineStroke(i, stroke);
            renderer.setSeriesShape(i, KindStyle.marker(kind, style.px(7.5)));
            renderer.setSeriesShapesFilled(i, false);
        }
        ValueAxis y = yAxis(metric, min, minPositive, max);
        XYPlot plot = new XYPlot(data, depth.axis(), y, renderer);
        depth.markHead(plot, style);
        JFreeChart chart = style.chart(metric.title, plot);
        // Every panel has a note line, so the four plot areas line up.
        TextTitle note = new TextTitle(metric.note, style.annotationFont());
        note.setPaint(new Color(0x555555));
        note.setPadding(new RectangleInsets(0, 0, style.px(6), 0));
        chart.addSubtitle(note);
        return chart;
    }

    private ValueAxis yAxis(Metric metric, double min, double minPositive, double max) {
        if (!(max >= min)) {   // no finite value at all
            NumberAxis empty = new NumberAxis(metric.axisLabel);
            empty.setRange(0, 1);
            return empty;
        }
        if (metric.scale == Scale.MEAN && min > 0 && max / minPositive > HeatmapColorScale.LOG_SPAN) {
            LogAxis log = HistogramPanel.logAxis(metric.axisLabel);
            log.setRange(minPositive / 1.6, max * 1.6);
            return log;
        }
        NumberAxis axis = new NumberAxis(metric.axisLabel);
        axis.setAutoRangeIncludesZero(false);
        if (metric.scale == Scale.SHARE_FITTED) {
            double pad = Math.max(0.08 * (max - min), 0.01);
            axis.setRange(Math.max(0, min - pad), max + pad);
        } else {
            double upper = max > 0 ? max * 1.12 : 1;
            // A little room below 0, less than a tick step, so points at 0 stay clear of the frame.
            axis.setRange(Math.min(0, min) - 0.03 * upper, upper);
        }
        TickSpacing.apply(axis, false, null);
        return axis;
    }

    /** Block numbers on the x axis; the position of lm_head is labelled "head". */
    static final class BlockFormat extends NumberFormat {
        private final double headX;

        BlockFormat(double headX) {
            this.headX = headX;
        }

        @Override
        public StringBuffer format(double number, StringBuffer to, FieldPosition pos) {
            return number == headX ? to.append("head") : to.append(Math.round(number));
        }

        @Override
        public StringBuffer format(long number, StringBuffer to, FieldPosition pos) {
            return format((double) number, to, pos);
        }

        @Override
        public Number parse(String source, ParsePosition pos) {
            throw new UnsupportedOperationException("block labels are only formatted");
        }
    }

    private void drawTitle(Graphics2D g2, String model, String view, CalibrationSummary calibration, int layerCount,
                           Depth depth) {
        FigureTitle.draw(g2, style, title, "Overview   \u2014   " + model, subtitle(view, calibration, layerCount, depth));
    }

    /**
     * "29 layers in 4 blocks + lm_head   ·   dense model, masks at sparsity 0.5   ·   calibration: demo,
     * 8 × 64 tokens, seed 0" ({@code view} null: without its part).
     */
    static String subtitle(String view, CalibrationSummary calibration, int layerCount, Depth depth) {
        String blocks = depth.blocks() == 0 ? "no decoder block"
                : depth.blocks() == 1 ? "block " + depth.firstBlock()
                : depth.blocks() + " blocks (" + depth.firstBlock() + "\u2013" + depth.lastBlock() + ")";
        return layerCount + (layerCount == 1 ? " layer" : " layers") + " in " + blocks + (depth.hasHead() ? " + lm_head" : "")
                + (view == null ? "" : "   \u00b7   " + view) + "   \u00b7   calibration: " + calibration.describe();
    }

    /** One row of entries, centred: a line segment with the kind's marker, then its name. */
    private void drawLegend(Graphics2D g2, List<String> kinds) {
        Font font = style.axisLabelFont();
        FontMetrics fm = g2.getFontMetrics(font);
        int segment = style.px(46);
        int gapAfterSymbol = style.px(10);
        int gapBetween = style.px(34);
        List<String> labels = new ArrayList<>();
        for (String k : kinds) {
            labels.add(k.equals("lm_head") ? "lm_head (after the last block)" : k);
        }
        int total = 0;
        for (String label : labels) {
            total += segment + gapAfterSymbol + fm.stringWidth(label);
        }
        total += gapBetween * (labels.size() - 1);
        double shrink = Math.min(1, legend.width / (double) total);
        if (shrink < 1) {
            font = font.deriveFont((float) Math.max(8, font.getSize() * shrink));
            fm = g2.getFontMetrics(font);
            total = 0;
            for (String label : labels) {
                total += segment + gapAfterSymbol + fm.stringWidth(label);
            }
            total += gapBetween * (labels.size() - 1);
        }
        int x = legend.x + Math.max(0, (legend.width - total) / 2);
        int cy = legend.y + legend.height / 2;
        g2.setFont(font);
        BasicStroke stroke = new BasicStroke(style.px(2.6f), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
        for (int i = 0; i < kinds.size(); i++) {
            String kind = kinds.get(i);
            g2.setColor(KindStyle.color(kind));
            g2.setStroke(stroke);
            if (!kind.equals("lm_head")) {
                g2.draw(new Line2D.Double(x, cy, x + segment, cy));
            }
            Shape marker = AffineTransform.getTranslateInstance(x + segment / 2.0, cy)
                    .createTransformedShape(KindStyle.marker(kind, style.px(7.5)));
            g2.setColor(Color.WHITE);
            g2.fill(marker);
            g2.setColor(KindStyle.color(kind));
            g2.draw(marker);
            x += segment + gapAfterSymbol;
            g2.setColor(FigureStyle.TEXT);
            g2.drawString(labels.get(i), x, cy + (fm.getAscent() - fm.getDescent()) / 2);
            x += fm.stringWidth(labels.get(i)) + gapBetween;
        }
    }
}
