package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatisticsPanelTest {

    private static Map<String, String> wandaStats() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("mean", "0.01595");
        m.put("std", "0.01205");
        m.put("shape", "8192 \u00d7 2048");
        m.put("nsamples", "128");
        m.put("agree row mask", "0.8675");
        return m;
    }

    @Test
    void linesAreTheGivenPairsInOrderAligned() {
        assertEquals(List.of(
                "mean                0.01595",
                "std                 0.01205",
                "shape           8192 \u00d7 2048",
                "nsamples                128",
                "agree row mask       0.8675"), StatisticsPanel.lines(wandaStats()));
    }

    @Test
    void emptyTableSaysSo() {
        assertEquals(List.of("(no statistics)"), StatisticsPanel.lines(Map.of()));
    }

    @Test
    void longTablesShrinkToFitTheirPanel() {
        Map<String, String> many = new LinkedHashMap<>();
        for (int k = 0; k < 60; k++) {
            many.put("statistic number " + k, String.valueOf(k * 1.5));
        }
        BufferedImage image = new BufferedImage(400, 300, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = image.createGraphics();
        StatisticsPanel.draw(g2, new Rectangle(0, 0, 400, 300), "Many", many, new FigureStyle(2400));
        g2.dispose();
        // Drawn inside the panel only; the last row of pixels stays white (the box keeps a bottom margin).
        for (int x = 0; x < 400; x++) {
            assertEquals(0xFFFFFF, image.getRGB(x, 299) & 0xFFFFFF);
        }
        assertTrue(PixelStatistics.luminanceStd(image, new Rectangle(0, 0, 400, 300)) > 5);
    }
}
