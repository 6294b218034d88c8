package io.layerscope.plot;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.Arrays;

/**
 * Shrinks an image by a whole factor, row by row: each output pixel is the mean of a factor x factor
 * block of input pixels (rounded), so every input pixel counts, thin lines fade instead of vanishing,
 * and nothing aliases. Input columns and rows beyond the last whole block are dropped (fewer than
 * {@code factor}).
 */
final class BoxReduction {
    /** Up to this factor a block's blue sum (factor x factor x 255) cannot carry into red's bits. */
    private static final int PACKED_MAX_FACTOR = 16;
    private final int factor;
    private final int outWidth;
    private final boolean packed;
    /** Packed form: sums down the current block row per input column, red|blue and green. */
    private final int[] columnRedBlue;
    private final int[] columnGreen;
    /** Red, green and blue sums per output pixel of the current block row. */
    private final int[] sums;
    private final BufferedImage out;
    private final int[] pixels;
    private int rowsAdded;

    BoxReduction(int width, int height, int factor) {
        this.factor = factor;
        this.outWidth = width / factor;
        int outHeight = height / factor;
        this.packed = factor <= PACKED_MAX_FACTOR;
        this.columnRedBlue = new int[packed ? outWidth * factor : 0];
        this.columnGreen = new int[packed ? outWidth * factor : 0];
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
     * needs no copy).
     */
    void add(int[] rgb, int offset) {
        int outRow = rowsAdded / factor;
        rowsAdded++;
        if (outRow >= out.getHeight()) {
            return;
        }
        if (packed) {
            addColumns(rgb, offset);
        } else {
            addChannels(rgb, offset);
        }
        if (rowsAdded % factor == 0) {
            if (packed) {
                sumColumnsIntoBlocks();
            }
            writeMeans(outRow);
        }
    }

    /**
     * Each input column summed down the block row, red and blue together in one int (0x00RR00BB
     * masks: a whole block adds at most 16 x 16 x 255 per channel, below the 16 bits between them),
     * green apart: two masked adds per pixel in a loop with nothing else in it.
     */
    private void addColumns(int[] rgb, int offset) {
        int[] redBlue = columnRedBlue;   // in locals: the JIT does not hoist the field reads out of the loop
        int[] green = columnGreen;
        for (int x = 0; x < redBlue.length; x++) {
            int p = rgb[offset + x];
            redBlue[x] += p & 0xFF00FF;
            green[x] += p & 0xFF00;
        }
    }

    private void sumColumnsIntoBlocks() {
        for (int ox = 0; ox < outWidth; ox++) {
            int redBlue = 0;
            int green = 0;
            for (int x = ox * factor; x < ox * factor + factor; x++) {
                redBlue += columnRedBlue[x];
                green += columnGreen[x];
            }
            sums[3 * ox] = redBlue >>> 16;
            sums[3 * ox + 1] = green >>> 8;
            sums[3 * ox + 2] = redBlue & 0xFFFF;
        }
        Arrays.fill(columnRedBlue, 0);
        Arrays.fill(columnGreen, 0);
    }

    /** Per channel, for factors whose packed sums would carry from blue into red. */
    private void addChannels(int[] rgb, int offset) {
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

    private void writeMeans(int outRow) {
        int n = factor * factor;
        int base = outRow * outWidth;
        for (int ox = 0; ox < outWidth; ox++) {
            int r = (sums[3 * ox] + n / 2) / n;
            int g = (sums[3 * ox + 1] + n / 2) / n;
            int b = (sums[3 * ox + 2] + n / 2) / n;
            pixels[base + ox] = (r << 16) | (g << 8) | b;
        }
        Arrays.fill(sums, 0);
    }

    BufferedImage result() {
        return out;
    }
}
