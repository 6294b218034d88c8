package io.layerscope.plot;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.awt.image.SinglePixelPackedSampleModel;

/**
 * A small copy of a picture, for galleries: an 1800 x 1500 layer picture is 2.7 megapixels, about
 * 11 MB once a browser decodes it, so a page of a hundred full pictures scaled down by CSS would ask
 * for about 1 GB; a 360 px wide thumbnail holds 0.4 MB decoded.
 *
 * <p>The picture is first shrunk by the largest whole factor that keeps it at least as wide as the
 * thumbnail, averaging every block of pixels ({@link BoxReduction}: no aliasing of thin lines and text),
 * then scaled bilinearly the rest of the way (by less than 2). The per-layer stage makes it from
 * the picture still in memory, so the picture's PNG is never decoded.
 *
 * <pre>{@code
 * byte[] thumbnail = PngEncoder.encode(Thumbnail.scale(picture, 360));
 * }</pre>
 */
public final class Thumbnail {
    private Thumbnail() {
    }

    /** {@code image} scaled to {@code width} px wide (never enlarged), keeping its aspect ratio. */
    public static BufferedImage scale(BufferedImage image, int width) {
        checkWidth(width);
        int factor = factor(image.getWidth(), width);
        BoxReduction box = new BoxReduction(image.getWidth(), image.getHeight(), factor);
        int w = image.getWidth();
        if (image.getType() == BufferedImage.TYPE_INT_RGB && image.getRaster().getDataBuffer() instanceof DataBufferInt ints
                && image.getRaster().getSampleModelTranslateX() == 0 && image.getRaster().getSampleModelTranslateY() == 0
                && ints.getNumBanks() == 1 && image.getSampleModel() instanceof SinglePixelPackedSampleModel packed
                && packed.getScanlineStride() == w) {
            // the pictures layerscope draws: rows straight from the raster (getRGB converts pixel by pixel)
            int[] pixels = ints.getData();
            for (int y = 0; y < image.getHeight(); y++) {
                box.add(pixels, y * w);
            }
        } else {
            int[] row = new int[w];
            for (int y = 0; y < image.getHeight(); y++) {
                image.getRGB(0, y, w, 1, row, 0, w);
                box.add(row);
            }
        }
        return finish(box.result(), image.getWidth(), image.getHeight(), width);
    }

    private static void checkWidth(int width) {
        if (width < 1) {
            throw new IllegalArgumentException("thumbnail width " + width + " px must be at least 1");
        }
    }

    /** The largest whole factor that keeps {@code sourceWidth} at least {@code width} (1 if already narrower). */
    static int factor(int sourceWidth, int width) {
        return Math.max(1, sourceWidth / width);
    }

    /** Bilinear from the box-reduced image to exactly {@code width} px (aspect ratio of the source). */
    private static BufferedImage finish(BufferedImage reduced, int sourceWidth, int sourceHeight, int width) {
        int w = Math.min(width, sourceWidth);
        int h = Math.max(1, (int) Math.round(sourceHeight * (double) w / sourceWidth));
        if (reduced.getWidth() == w && reduced.getHeight() == h) {
            return reduced;
        }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = out.createGraphics();
        try {
            g2.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g2.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g2.drawImage(reduced, 0, 0, w, h, null);
        } finally {
            g2.dispose();
        }
        return out;
    }
}
