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
        int outRow = rowsAdded / factor;
        rowsAdded++;
        if (outRow >= out.getHeight()) {
            return;
        }
        for (int ox = 0, x = 0; ox < outWidth; ox++) {
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
