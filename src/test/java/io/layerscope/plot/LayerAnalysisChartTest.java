package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LayerAnalysisChartTest {
    /** Luminance spread above which a panel counts as drawn; a blank panel has 0. */
    private static final double NOT_BLANK = 8;
    private static LayerPlotData data;

    @BeforeAll
    static void layer() {
        // 1100 x 700: reduced in blocks of 3 x 2, with planted outlier features.
        data = SyntheticLayer.create(1100, 700, 3).plotData();
    }

    private static BufferedImage decode(byte[] png) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(png));
    }

    @Test
    void pngHasTheDefaultSize() throws IOException {
        BufferedImage image = decode(new LayerAnalysisChart().renderPng(data));
        assertEquals(1800, image.getWidth());
        assertEquals(1500, image.getHeight());
    }

    @Test
    void thumbnailRenderedWithThePictureEqualsOneMadeFromItsPng() throws IOException {
        LayerAnalysisChart.Pngs pngs = new LayerAnalysisChart().renderPngs(data, 360);
        BufferedImage fromPng = Thumbnail.scale(decode(pngs.picture()), 360);
        BufferedImage thumbnail = decode(pngs.thumbnail());
        assertEquals(360, thumbnail.getWidth());
        assertEquals(300, thumbnail.getHeight());
        for (int y = 0; y < thumbnail.getHeight(); y++) {
            for (int x = 0; x < thumbnail.getWidth(); x++) {
                assertEquals(fromPng.getRGB(x, y), thumbnail.getRGB(x, y), "pixel " + x + ", " + y);
            }
        }
        assertArrayEquals(new LayerAnalysisChart().renderPng(data), pngs.picture());
    }

    @Test
    void everyPanelAndTheTitleAreDrawn() throws IOException {
        LayerAnalysisChart chart = new LayerAnalysisChart();
        BufferedImage image = decode(chart.renderPng(data));
        FigureLayout layout = chart.layout();
        for (int r = 0; r < FigureLayout.ROWS; r++) {
            for (int c = 0; c < FigureLayout.COLUMNS; c++) {
                double spread = PixelStatistics.luminanceStd(image, layout.panel(r, c));
                assertTrue(spread > NOT_BLANK, "panel " + r + ", " + c + " looks blank (luminance std " + spread + ")");
            }
        }
        assertTrue(PixelStatistics.luminanceStd(image, layout.title()) > NOT_BLANK);
    }

    @Test
    void blankRegionsMeasureAsBlank() {
        BufferedImage white = new BufferedImage(50, 40, BufferedImage.TYPE_INT_RGB);
        white.getGraphics().fillRect(0, 0, 50, 40);
        assertEquals(0, PixelStatistics.luminanceStd(white, new Rectangle(0, 0, 50, 40)), 1e-9);
    }

    @Test
    void panelsTileTheFigureBelowTheTitle() {
        FigureLayout layout = new FigureLayout(2400, 2000);
        Rectangle title = layout.title();
        assertEquals(title.y + title.height, layout.panel(0, 0).y);
        for (int r = 0; r < FigureLayout.ROWS; r++) {
            for (int c = 0; c + 1 < FigureLayout.COLUMNS; c++) {
                Rectangle left = layout.panel(r, c);
                assertEquals(left.x + left.width, layout.panel(r, c + 1).x);
            }
            Rectangle last = layout.panel(r, FigureLayout.COLUMNS - 1);
            assertEquals(2400 - title.x, last.x + last.width);
        }
        Rectangle bottom = layout.panel(FigureLayout.ROWS - 1, 0);
        assertEquals(2000 - title.y, bottom.y + bottom.height);
        assertEquals(945, layout.panel(0, 0).width);    // 40% of 2400 - 2 * 19 px of margin
    }

    @Test
    void smallerFiguresScale() throws IOException {
        LayerAnalysisChart chart = new LayerAnalysisChart(1200, 1000);
        BufferedImage image = decode(chart.renderPng(data));
        assertEquals(1200, image.getWidth());
        assertEquals(1000, image.getHeight());
        assertTrue(PixelStatistics.luminanceStd(image, chart.layout().panel(2, 0)) > NOT_BLANK);
    }

    @Test
    void titleNamesModelLayerShapeAndCalibration() {
        assertEquals(List.of("model.layers.3.mlp.gate_proj   \u2014   synthetic/llama-1100x700",
                "weight 1100 \u00d7 700 (out \u00d7 in)   \u00b7   calibration: c4, 128 \u00d7 2048 tokens, seed 0"),
                LayerAnalysisChart.titleLines(data));
    }

    @Test
    void tooSmallFigureIsRefused() {
        io.layerscope.LayerscopeException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.layerscope.LayerscopeException.class, () -> new LayerAnalysisChart(300, 200));
        assertEquals("layer picture size 300 x 200 px is too small for nine readable panels; use at least 600 x 500",
                e.getMessage());
    }
}
