package io.layerscope.plot;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;

/** Pixel measures for rendering tests. */
final class PixelStatistics {
    private PixelStatistics() {
    }

    /** Standard deviation of the luminance (0..255) over {@code region}; 0 for a uniform region. */
    static double luminanceStd(BufferedImage image, Rectangle region) {
        double sum = 0;
        double sumSq = 0;
        long n = 0;
        for (int y = region.y; y < region.y + region.height; y++) {
            for (int x = region.x; x < region.x + region.width; x++) {
                int p = image.getRGB(x, y);
                double l = 0.299 * ((p >> 16) & 0xFF) + 0.587 * ((p >> 8) & 0xFF) + 0.114 * (p & 0xFF);
                sum += l;
                sumSq += l * l;
                n++;
            }
        }
        double mean = sum / n;
        return Math.sqrt(Math.max(0, sumSq / n - mean * mean));
    }
}
