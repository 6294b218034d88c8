package io.layerscope.plot;

import io.layerscope.LayerscopeException;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.awt.image.SinglePixelPackedSampleModel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * A small copy of a picture, for galleries: an 1800 x 1500 layer picture is 2.7 megapixels, about
 * 11 MB once a browser decodes it, so a page of a hundred full pictures scaled down by CSS would ask
 * for about 1 GB; a 360 px wide thumbnail holds 0.4 MB decoded.
 *
 * <p>The picture is first shrunk by the largest whole factor that keeps it at least as wide as the
 * thumbnail, averaging every block of pixels ({@link BoxReduction}: no aliasing of thin lines and text),
 * then scaled bilinearly the rest of the way (by less than 2). PNGs are decoded row by row
 * ({@link PngRows}) straight into that reduction, never whole: about 5 times faster than ImageIO's
 * decoder plus Java2D scaling (which is the fallback for PNG forms the row reader does not handle).
 *
 * <pre>{@code
 * Thumbnail.write(dir.resolve("png/layer_analysis_x.png"), dir.resolve("png/thumbs/layer_analysis_x.png"), 360);
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

    /** The thumbnail of a picture given as PNG bytes (any format ImageIO reads also works). */
    public static BufferedImage fromPng(byte[] png, int width) throws IOException {
        checkWidth(width);
        PngRows rows = PngRows.open(png);
        if (rows == null) {
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
            if (image == null) {
                throw new IOException("not a picture ImageIO can read");
            }
            return scale(image, width);
        }
        BoxReduction box = new BoxReduction(rows.width(), rows.height(), factor(rows.width(), width));
        int[] row = new int[rows.width()];
        for (int y = 0; y < rows.height(); y++) {
            rows.next(row);
            box.add(row);
        }
        return finish(box.result(), rows.width(), rows.height(), width);
    }

    /** Reads the picture {@code source} and writes its thumbnail as PNG to {@code target}. */
    public static void write(Path source, Path target, int width) {
        BufferedImage thumbnail;
        try {
            thumbnail = fromPng(Files.readAllBytes(source), width);
        } catch (NoSuchFileException e) {
            throw new LayerscopeException("cannot make a thumbnail: the picture " + source
                    + " does not exist; run the sweep again to render it", e);
        } catch (IOException e) {
            throw new LayerscopeException("cannot make a thumbnail of the picture " + source + " (" + e.getMessage()
                    + "); the file may be damaged: run the sweep again to re-render it", e);
        }
        try {
            Files.createDirectories(target.toAbsolutePath().getParent());
            Files.write(target, PngEncoder.encode(thumbnail));
        } catch (IOException e) {
            throw new LayerscopeException("cannot write the thumbnail " + target + " (" + e.getMessage()
                    + "); check that the results directory is writable", e);
        }
    }

    private static void checkWidth(int width) {
        if (width < 1) {
            throw new LayerscopeException("thumbnail width " + width + " px must be at least 1");
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
