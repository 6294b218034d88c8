package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.junit.jupiter.api.Test;

class HeatmapPanelTest {
    private final FigureStyle style = new FigureStyle(2400);

    private static Rectangle2D drawAndGetDataArea(JFreeChart chart, BufferedImage image) {
        Graphics2D g2 = image.createGraphics();
        FigureStyle.applyHints(g2);
        ChartRenderingInfo info = new ChartRenderingInfo();
        chart.draw(g2, new Rectangle2D.Double(0, 0, image.getWidth(), image.getHeight()), info);
        g2.dispose();
        return info.getPlotInfo().getDataArea();
    }

    @Test
    void axisTitlesStateTheBlockSize() {
        assertEquals("input feature (block max over 4)", HeatmapPanel.axisTitle("input feature", 4));
        assertEquals("output row", HeatmapPanel.axisTitle("output row", 1));
        ReducedMatrix m = new ReducedMatrix(new float[63 * 49], 63, 49, 16, 16);
        JFreeChart chart = HeatmapPanel.chart("W", "|W|", m, 1000, 777, style);
        assertEquals("input feature (block max over 16)", chart.getXYPlot().getDomainAxis().getLabel());
        assertEquals("output row (block max over 16)", chart.getXYPlot().getRangeAxis().getLabel());
        assertEquals(777, chart.getXYPlot().getDomainAxis().getUpperBound());
        assertTrue(chart.getXYPlot().getRangeAxis().isInverted());
    }

    @Test
    void titleSaysWhenTheColourScaleIsLogarithmic() {
        ReducedMatrix wide = new ReducedMatrix(new float[] {0.001f, 1f}, 1, 2, 1, 1);
        ReducedMatrix narrow = new ReducedMatrix(new float[] {0.5f, 1f}, 1, 2, 1, 1);
        assertEquals("Wanda (log colour scale)", HeatmapPanel.chart("Wanda", "q", wide, 1, 2, style).getTitle().getText());
        assertEquals("Wanda", HeatmapPanel.chart("Wanda", "q", narrow, 1, 2, style).getTitle().getText());
    }

    @Test
    void eachCellIsPaintedWithItsColourRowZeroAtTheTop() {
        float[] v = new float[16];
        for (int k = 0; k < 16; k++) {
            v[k] = k + 1;          // 1..16: linear scale
        }
        v[6] = Float.NaN;          // cell (1, 2): grey
        ReducedMatrix m = new ReducedMatrix(v, 4, 4, 1, 1);
        HeatmapColorScale colors = HeatmapColorScale.fit(ColorMap.VIRIDIS, m);
        BufferedImage image = new BufferedImage(900, 700, BufferedImage.TYPE_INT_RGB);
        Rectangle2D area = drawAndGetDataArea(HeatmapPanel.chart("t", "q", m, 4, 4, style), image);
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) {
                int x = (int) (area.getX() + (c + 0.5) / 4 * area.getWidth());
                int y = (int) (area.getY() + (r + 0.5) / 4 * area.getHeight());
                int expected = r == 1 && c == 2 ? 0xBFBFBF : colors.rgbOf(r * 4 + c + 1);
                assertEquals(expected, image.getRGB(x, y) & 0xFFFFFF, "cell " + r + ", " + c);
            }
        }
    }

    @Test
    void aCellNarrowerThanAPixelStillShows() {
        int rows = 8;
        int cols = 2048;
        float[] v = new float[rows * cols];
        v[3 * cols + 1301] = 1f;    // one bright cell among zeros
        ReducedMatrix m = new ReducedMatrix(v, rows, cols, 1, 4);
        int top = HeatmapColorScale.fit(ColorMap.VIRIDIS, m).rgbOf(1);
        BufferedImage image = new BufferedImage(500, 400, BufferedImage.TYPE_INT_RGB);
        Rectangle2D area = drawAndGetDataArea(HeatmapPanel.chart("t", "q", m, rows, cols * 4, style), image);
        assertTrue(area.getWidth() < cols / 2.0, "the data area must be narrower than the cells for this test");
        int found = 0;
        double sumX = 0;
        for (int y = (int) Math.ceil(area.getMinY()); y < (int) area.getMaxY(); y++) {
            for (int x = (int) Math.ceil(area.getMinX()); x < (int) area.getMaxX(); x++) {
                if ((image.getRGB(x, y) & 0xFFFFFF) == top) {
                    found++;
                    sumX += x;
                }
            }
        }
        assertTrue(found > 0, "the bright cell vanished when drawn smaller than a pixel");
        double expectedX = area.getX() + 1301.5 / cols * area.getWidth();
        assertEquals(expectedX, sumX / found, 1.5);
    }
}
