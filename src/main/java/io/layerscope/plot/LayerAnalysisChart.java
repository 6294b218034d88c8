package io.layerscope.plot;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Map;
import org.jfree.chart.JFreeChart;

/**
 * Renders the 9-panel analysis picture of one layer (PNG), headless:
 *
 * <pre>
 *   weight magnitude |W|     heatmap (block max)      histogram (log counts)   statistics
 *   activation norm          per input feature        histogram (log counts)   statistics
 *   Wanda metric |W|·‖X‖     heatmap (block max)      histogram (log counts)   statistics
 * </pre>
 *
 * under a title naming the model, layer, shape and calibration. Heatmaps are drawn as one image each,
 * so rendering time does not grow with the layer size; the cost is the reduction done beforehand by
 * {@link BlockMaxReduction}. An instance holds only its size: it is immutable and may be shared by
 * threads (one per executor JVM is enough).
 *
 * <pre>{@code
 * LayerAnalysisChart.Pngs pngs = new LayerAnalysisChart().renderPngs(data, 360);   // picture and thumbnail
 * }</pre>
 */
public final class LayerAnalysisChart {
    /**
     * The default size: matplotlib's figsize (18, 15) at its 100 dpi, the look of the Python scripts
     * this replaces. Larger sizes add little: a heatmap is at most 512 cells a side, its panel here is
     * about 525 px wide (a pixel or more per cell across) and rows are pooled by maximum at either
     * size; but 2400 x 2000 costs more CPU and file size, which matters when pictures are
     * most of a sweep (small models, many layers).
     */
    public static final int DEFAULT_WIDTH = 1800;
    public static final int DEFAULT_HEIGHT = 1500;

    static {
        // Executors and CLI runs have no display; AWT must not look for one.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private final FigureLayout layout;
    private final FigureStyle style;

    /** A picture of the default size, 1800 x 1500 px. */
    public LayerAnalysisChart() {
        this(DEFAULT_WIDTH, DEFAULT_HEIGHT);
    }

    /** A {@code width x height} px picture (at least 600 x 500); text scales with the width. */
    public LayerAnalysisChart(int width, int height) {
        this.layout = new FigureLayout(width, height);
        this.style = new FigureStyle(width);
    }

    /** The panel areas of the pictures this chart renders. */
    public FigureLayout layout() {
        return layout;
    }

    /** Draws the picture into a new RGB image. */
    public BufferedImage render(LayerPlotData d) {
        BufferedImage image = new BufferedImage(layout.width(), layout.height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = image.createGraphics();
        try {
            FigureStyle.applyHints(g2);
            g2.setColor(Color.WHITE);
            g2.fillRect(0, 0, layout.width(), layout.height());
            drawTitle(g2, d);
            LayerHeatmaps maps = d.heatmaps();
            draw(g2, 0, 0, HeatmapPanel.chart("Weight magnitude |W|", "|W|", maps.weightAbs(),
                    d.outFeatures(), d.inFeatures(), style));
            draw(g2, 0, 1, HistogramPanel.chart("|W| distribution", "|W|", d.weightHistogram(), FigureStyle.BLUE, style));
            drawStatistics(g2, 0, "|W| statistics", d.weightStatistics());
            draw(g2, 1, 0, ActivationNormPanel.chart("Activation norm per input feature", d, style));
            draw(g2, 1, 1, HistogramPanel.chart("Activation norm distribution", "activation norm \u2016X\u2c7c\u2016\u2082/\u221aN",
                    d.activationHistogram(), FigureStyle.ORANGE, style));
            drawStatistics(g2, 1, "Activation norm statistics", d.activationStatistics());
            draw(g2, 2, 0, HeatmapPanel.chart("Wanda metric |W|\u00b7\u2016X\u2016", "|W\u1d62\u2c7c|\u00b7\u2016X\u2c7c\u2016\u2082/\u221aN",
                    maps.wanda(), d.outFeatures(), d.inFeatures(), style));
            draw(g2, 2, 1, HistogramPanel.chart("Wanda metric distribution", "|W\u1d62\u2c7c|\u00b7\u2016X\u2c7c\u2016\u2082/\u221aN",
                    d.wandaHistogram(), FigureStyle.GREEN, style));
            drawStatistics(g2, 2, "Wanda statistics", d.wandaStatistics());
        } finally {
            g2.dispose();
        }
        return image;
    }

    /** The picture as PNG bytes. */
    public byte[] renderPng(LayerPlotData d) {
        return PngEncoder.encode(render(d));
    }

    /** A picture and its thumbnail, both PNG. */
    public record Pngs(byte[] picture, byte[] thumbnail) {
    }

    /**
     * The picture and its {@code thumbnailWidth}-px thumbnail (see {@link Thumbnail#scale}) from one
     * rendering: scaling the image in memory here is much cheaper than decoding the PNG again later.
     */
    public Pngs renderPngs(LayerPlotData d, int thumbnailWidth) {
        BufferedImage image = render(d);
        return new Pngs(PngEncoder.encode(image), PngEncoder.encode(Thumbnail.scale(image, thumbnailWidth)));
    }

    private void draw(Graphics2D g2, int row, int column, JFreeChart chart) {
        chart.draw(g2, layout.panel(row, column));
    }

    private void drawStatistics(Graphics2D g2, int row, String title, Map<String, String> stats) {
        StatisticsPanel.draw(g2, layout.panel(row, 2), title, stats, style);
    }

    /** The two title lines: layer and model, then weight shape and calibration. */
    static List<String> titleLines(LayerPlotData d) {
        return List.of(d.layer() + "   \u2014   " + d.model(),
                "weight " + d.outFeatures() + " \u00d7 " + d.inFeatures() + " (out \u00d7 in)   \u00b7   calibration: "
                        + d.calibration().describe());
    }

    /** The title lines centred in the title band, each shrunk if needed to fit the width. */
    private void drawTitle(Graphics2D g2, LayerPlotData d) {
        FigureTitle.draw(g2, style, layout.title(), titleLines(d).get(0), titleLines(d).get(1));
    }
}
