package io.layerscope.plot;

import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import org.jfree.chart.annotations.AbstractXYAnnotation;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.PlotRenderingInfo;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.ui.RectangleEdge;

/**
 * Draws a {@link ReducedMatrix} into an XY plot as one image at the data area's own pixel size, so a
 * heatmap costs one {@code drawImage} instead of one chart item per cell. Cell {@code (r, c)} covers
 * source rows {@code [r * rowBlock, (r + 1) * rowBlock)} and columns likewise, clipped to the
 * {@code out x in} source, in the plot's data coordinates (x: input feature, y: output row).
 *
 * <p>Each pixel shows the maximum of the cells it overlaps: when cells are smaller than pixels the
 * picture stays a block maximum (a bright outlier cell is never skipped by resampling); when cells are
 * larger, each pixel is its one cell, with crisp edges.
 */
final class HeatmapAnnotation extends AbstractXYAnnotation {
    private static final long serialVersionUID = 1L;
    private static final double EDGE_EPSILON = 1e-9;
    private static final int BACKGROUND = 0xFFFFFF;

    private final ReducedMatrix matrix;
    private final int out;
    private final int in;
    private final HeatmapColorScale colors;

    HeatmapAnnotation(ReducedMatrix matrix, int out, int in, HeatmapColorScale colors) {
        this.matrix = matrix;
        this.out = out;
        this.in = in;
        this.colors = colors;
    }

    @Override
    public void draw(Graphics2D g2, XYPlot plot, Rectangle2D dataArea, ValueAxis domainAxis, ValueAxis rangeAxis,
            int rendererIndex, PlotRenderingInfo info) {
        RectangleEdge xEdge = plot.getDomainAxisEdge();
        RectangleEdge yEdge = plot.getRangeAxisEdge();
        int x0 = (int) Math.round(dataArea.getMinX());
        int y0 = (int) Math.round(dataArea.getMinY());
        int width = (int) Math.round(dataArea.getMaxX()) - x0;
        int height = (int) Math.round(dataArea.getMaxY()) - y0;
        if (width <= 0 || height <= 0) {
            return;
        }
        int[] colLo = new int[width];
        int[] colHi = new int[width];
        for (int px = 0; px < width; px++) {
            double a = domainAxis.java2DToValue(x0 + px, dataArea, xEdge);
            double b = domainAxis.java2DToValue(x0 + px + 1, dataArea, xEdge);
            cellRange(Math.min(a, b), Math.max(a, b), in, matrix.colBlock(), matrix.cols(), colLo, colHi, px);
        }
        int[] rowLo = new int[height];
        int[] rowHi = new int[height];
        for (int py = 0; py < height; py++) {
            double a = rangeAxis.java2DToValue(y0 + py, dataArea, yEdge);
            double b = rangeAxis.java2DToValue(y0 + py + 1, dataArea, yEdge);
            cellRange(Math.min(a, b), Math.max(a, b), out, matrix.rowBlock(), matrix.rows(), rowLo, rowHi, py);
        }
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        paint(image, colLo, colHi, rowLo, rowHi);
        g2.drawImage(image, x0, y0, null);
    }

    /**
     * Cells overlapped by the data interval {@code [lo, hi)} along one axis of {@code size} source
     * entries in blocks of {@code block}; -1 marks a pixel outside the source.
     */
    private static void cellRange(double lo, double hi, int size, int block, int cells, int[] first, int[] last, int i) {
        if (hi <= 0 || lo >= size) {
            first[i] = -1;
            last[i] = -1;
            return;
        }
        int a = (int) Math.floor(Math.max(lo, 0) / block);
        int b = (int) Math.ceil(Math.min(hi, size) / block - EDGE_EPSILON) - 1;
        first[i] = Math.min(a, cells - 1);
        last[i] = Math.max(first[i], Math.min(b, cells - 1));
    }

    /**
     * Colour indices per cell (order-preserving, so their maximum is the maximum's colour), then the
     * maximum over each pixel's columns (rows x width), then over its rows, written into the image.
     */
    private void paint(BufferedImage image, int[] colLo, int[] colHi, int[] rowLo, int[] rowHi) {
        int width = image.getWidth();
        int height = image.getHeight();
        int rows = matrix.rows();
        int cols = matrix.cols();
        float[] values = matrix.values();
        int[] cellIndex = colors.indicesOf(values);
        int[] byColumn = new int[rows * width];
        for (int r = 0; r < rows; r++) {
            for (int px = 0; px < width; px++) {
                int m = -1;
                for (int c = colLo[px]; c <= colHi[px] && c >= 0; c++) {
                    m = Math.max(m, cellIndex[r * cols + c]);
                }
                byColumn[r * width + px] = m;
            }
        }
        int[] rgb = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
        for (int py = 0; py < height; py++) {
            for (int px = 0; px < width; px++) {
                int m = -1;
                for (int r = rowLo[py]; r <= rowHi[py] && r >= 0; r++) {
                    m = Math.max(m, byColumn[r * width + px]);
                }
                rgb[py * width + px] = m < 0 ? BACKGROUND : colors.rgbOfIndex(m);
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HeatmapAnnotation h && h.matrix.equals(matrix) && h.out == out && h.in == in
                && h.colors.equals(colors);
    }

    @Override
    public int hashCode() {
        return matrix.hashCode();
    }
}
