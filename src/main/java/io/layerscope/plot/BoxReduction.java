package io.layerscope.plot;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;

/**
 * Shrinks an image by a whole factor, row by row: each output pixel is the mean of a factor x factor
 * block of input pixels (rounded), so every input pixel counts, thin lines fade instead of vanishing,
 * and nothing aliases. Input columns and rows beyond the last whole block are dropped (fewer than
 * {@code factor}).
 */
final class BoxReduction {
    /** Up to this factor a block row's blue sum (factor x 255) cannot carry into red's bits. */
    private static final int PACKED_MAX_FACTOR = 16;
    private final int factor;
    private final int outWidth;
    private final int[] sums;
    private final BufferedImage out;
    private final int[] pixels;
    private int rowsAdded;

    BoxReduction(int width, int height, int factor) {
        this.factor = factor;
        this.outWidth = width / factor;
        int outHeight = height / factor;
        this.sums = new int[3 * outWidth];
        this.out = new BufferedImage(outWidth, outHeight, BufferedImage.TYPE_INT_RGB);
        this.pixels = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
    }

    /** Adds the next input row (packed 0xRRGGBB, at least width long). */
    void add(int[] rgb) {
        add(rgb, 0);
    }

    /**
     * Adds the next input row, read from {@code rgb[offset..]} (a row of an image's own int raster
     * needs no copy). Red and blue are summed together in one int (0x00RR00BB masks: a row's block
     * adds at most 16 x 255 per channel, far below the 16 bits between them), green apart.
     */
    void add(int[] rgb, int offset) {
        int outRow = rowsAdded / factor;
        rowsAdded++;
        if (outRow >= out.getHeight()) {
            return;
        }
        if (factor <= PACKED_MAX_FACTOR) {
            for (int ox = 0, x = offset; ox < outWidth; ox++) {
                int redBlue = 0;
                int green = 0;
                for (int k = 0; k < factor; k++, x++) {
                    int p = rgb[x];
                    redBlue += p & 0xFF00FF;
                    green += p & 0xFF00;
                }
                sums[3 * ox] += redBlue >>> 16;
                sums[3 * ox + 1] += green >>> 8;
                sums[3 * ox + 2] += redBlue & 0xFFFF;
            }
        } else {
            for (int ox = 0, x = offset; ox < outWidth; ox++) {
                int r = 0;
                int g = 0;
                int b = 0;
                for (int k = 0; k < factor; k++, x++) {
                    int p = rgb[x];
                    r += (p >> 16) & 0xFF;
                    g += (p >> 8) & 0xFF;
                    b += p & 0xFF;
                }
                sums[3 * ox] += r;
                sums[3 * ox + 1] += g;
                sums[3 * ox + 2] += b;
            }
        }
        if (rowsAdded % factor == 0) {
            int n = factor * factor;
            int base = outRow * outWidth;
            for (int ox = 0; ox < outWidth; ox++) {
                int r = (sums[3 * ox] + n / 2) / n;
                int g = (sums[3 * ox + 1] + n / 2) / n;
                int b = (sums[3 * ox + 2] + n / 2) / n;
                pixels[base + ox] = (r << 16) | (g << 8) | b;
            }
            java.util.Arrays.fill(sums, 0);
        }
    }

    BufferedImage result() {
        return out;
    }
}
