package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThumbnailTest {

    /** Smooth gradients plus noise: every filter type predicts differently on it. */
    private static int[] pixels(int width, int height, boolean alpha, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] p = new int[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int r = (x * 7 + rnd.nextInt(5)) & 0xFF;
                int g = (y * 5 + x + rnd.nextInt(3)) & 0xFF;
                int b = rnd.nextInt(256);
                int a = alpha ? rnd.nextInt(256) : 0xFF;
                p[y * width + x] = (a << 24) | (r << 16) | (g << 8) | b;
            }
        }
        return p;
    }

    private static int[] decodeRows(byte[] png) throws IOException {
        PngRows rows = PngRows.open(png);
        assertNotNull(rows, "the row reader should handle this PNG");
        int[] out = new int[rows.width() * rows.height()];
        int[] row = new int[rows.width()];
        for (int y = 0; y < rows.height(); y++) {
            rows.next(row);
            System.arraycopy(row, 0, out, y * rows.width(), rows.width());
        }
        return out;
    }

    @Test
    void rowReaderUndoesEveryFilterType() throws IOException {
        int w = 29;
        int h = 15;
        int[] argb = pixels(w, h, false, 1);
        for (int filter = 0; filter <= 4; filter++) {
            int[] decoded = decodeRows(HandMadePng.encode(argb, w, h, false, new int[] {filter}));
            for (int i = 0; i < argb.length; i++) {
                assertEquals(argb[i] & 0xFFFFFF, decoded[i], "filter " + filter + ", pixel " + i);
            }
        }
        // All five filters in one image, row after row.
        int[] decoded = decodeRows(HandMadePng.encode(argb, w, h, false, new int[] {4, 0, 3, 1, 2}));
        for (int i = 0; i < argb.length; i++) {
            assertEquals(argb[i] & 0xFFFFFF, decoded[i], "mixed filters, pixel " + i);
        }
    }

    @Test
    void rowReaderCompositesAlphaOverWhite() throws IOException {
        int w = 11;
        int h = 6;
        int[] argb = pixels(w, h, true, 2);
        int[] decoded = decodeRows(HandMadePng.encode(argb, w, h, true, new int[] {1, 4, 3}));
        for (int i = 0; i < argb.length; i++) {
            int a = argb[i] >>> 24;
            int expected = 0;
            for (int shift = 16; shift >= 0; shift -= 8) {
                int c = (argb[i] >> shift) & 0xFF;
                expected |= (int) Math.round((c * a + 255.0 * (255 - a)) / 255.0) << shift;
            }
            assertEquals(expected, decoded[i], "pixel " + i + " alpha " + a);
        }
    }

    @Test
    void rowReaderAgreesWithImageIoOnItsOwnPngs() throws IOException {
        BufferedImage image = new BufferedImage(64, 40, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, 64, 40, pixels(64, 40, false, 3), 0, 64);
        ByteArrayOutputStream imageIo = new ByteArrayOutputStream();
        ImageIO.write(image, "png", imageIo);   // ImageIO picks filters per row
        for (byte[] png : new byte[][] {imageIo.toByteArray(), PngEncoder.encode(image)}) {
            int[] decoded = decodeRows(png);
            for (int y = 0; y < 40; y++) {
                for (int x = 0; x < 64; x++) {
                    assertEquals(image.getRGB(x, y) & 0xFFFFFF, decoded[y * 64 + x], "pixel " + x + ", " + y);
                }
            }
        }
    }

    @Test
    void rowReaderDeclinesOtherForms() throws IOException {
        BufferedImage grey = new BufferedImage(10, 10, BufferedImage.TYPE_BYTE_GRAY);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(grey, "png", png);
        assertNull(PngRows.open(png.toByteArray()));
        assertNull(PngRows.open("not a png at all, but long enough to have a header".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void boxReductionAveragesBlocks() {
        // factor 3 and 16 take the packed red|blue sums, 17 the per-channel ones
        for (int factor : new int[] {3, 16, 17}) {
            int w = 4 * factor + 1;
            int h = 2 * factor + 2;
            int[] p = pixels(w, h, false, 4);
            for (int k = 0; k < p.length; k += 5) {
                p[k] = 0xFFFFFF;   // saturated channels: the largest sums
            }
            BoxReduction box = new BoxReduction(w, h, factor);
            for (int y = 0; y < h; y++) {
                if (y % 2 == 0) {
                    box.add(java.util.Arrays.copyOfRange(p, y * w, (y + 1) * w));
                } else {
                    box.add(p, y * w);   // a row read in place
                }
            }
            BufferedImage out = box.result();
            assertEquals(4, out.getWidth());    // the last column dropped
            assertEquals(2, out.getHeight());   // the last two rows dropped
            for (int oy = 0; oy < 2; oy++) {
                for (int ox = 0; ox < 4; ox++) {
                    int expected = 0;
                    for (int shift = 16; shift >= 0; shift -= 8) {
                        int sum = 0;
                        for (int y = factor * oy; y < factor * oy + factor; y++) {
                            for (int x = factor * ox; x < factor * ox + factor; x++) {
                                sum += (p[y * w + x] >> shift) & 0xFF;
                            }
                        }
                        expected |= (int) Math.round(sum / (double) (factor * factor)) << shift;
                    }
                    assertEquals(expected, out.getRGB(ox, oy) & 0xFFFFFF, "factor " + factor + ", block " + ox + ", " + oy);
                }
            }
        }
    }

    @Test
    void aPictureIsScaledTheSameFromItsRasterAsThroughGetRgb() {
        int w = 2400;
        int h = 2000;
        BufferedImage parent = new BufferedImage(w + 8, h + 4, BufferedImage.TYPE_INT_RGB);
        parent.setRGB(0, 0, w + 8, h + 4, pixels(w + 8, h + 4, false, 9), 0, w + 8);
        BufferedImage view = parent.getSubimage(3, 2, w, h);   // shares the raster: read through getRGB
        BufferedImage own = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);   // read from the raster
        own.setRGB(0, 0, w, h, view.getRGB(0, 0, w, h, null, 0, w), 0, w);
        BufferedImage a = Thumbnail.scale(view, 360);
        BufferedImage b = Thumbnail.scale(own, 360);
        assertEquals(360, b.getWidth());
        assertEquals(300, b.getHeight());
        for (int y = 0; y < 300; y++) {
            for (int x = 0; x < 360; x++) {
                assertEquals(a.getRGB(x, y), b.getRGB(x, y), "pixel " + x + ", " + y);
            }
        }
    }

    @Test
    void layerPictureBecomes360By300() throws IOException {
        BufferedImage picture = new BufferedImage(2400, 2000, BufferedImage.TYPE_INT_RGB);
        BufferedImage thumb = Thumbnail.fromPng(PngEncoder.encode(picture), 360);
        assertEquals(360, thumb.getWidth());
        assertEquals(300, thumb.getHeight());
        assertEquals(360, Thumbnail.scale(picture, 360).getWidth());
        BufferedImage small = new BufferedImage(200, 100, BufferedImage.TYPE_INT_RGB);
        assertEquals(200, Thumbnail.scale(small, 360).getWidth(), "never enlarged");
    }

    @Test
    void thinLinesSurviveAsGrey() throws IOException {
        // A 1 px black line on white, 2400 px wide: sampling every 6.7th column would usually miss it.
        BufferedImage picture = new BufferedImage(2400, 600, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 600; y++) {
            for (int x = 0; x < 2400; x++) {
                picture.setRGB(x, y, x == 1003 ? 0 : 0xFFFFFF);
            }
        }
        BufferedImage thumb = Thumbnail.fromPng(PngEncoder.encode(picture), 360);
        int darkest = 255;
        for (int x = 0; x < thumb.getWidth(); x++) {
            darkest = Math.min(darkest, thumb.getRGB(x, 40) & 0xFF);
        }
        // The box step averages it into one 6-pixel-wide block (255 * 5/6 = 212.5); bilinear keeps most of that.
        assertTrue(darkest < 235, "the line should remain visible, darkest column " + darkest);
        assertTrue(darkest > 150, "the line should be averaged, not kept black: " + darkest);
    }

    @Test
    void otherFormatsGoThroughImageIo() throws IOException {
        BufferedImage grey = new BufferedImage(720, 360, BufferedImage.TYPE_BYTE_GRAY);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(grey, "png", png);
        BufferedImage thumb = Thumbnail.fromPng(png.toByteArray(), 360);
        assertEquals(360, thumb.getWidth());
        assertEquals(180, thumb.getHeight());
    }

    @Test
    void writesAPngThumbnail(@TempDir Path dir) throws IOException {
        BufferedImage picture = new BufferedImage(1200, 1000, BufferedImage.TYPE_INT_RGB);
        Path source = dir.resolve("png/a.png");
        Files.createDirectories(source.getParent());
        Files.write(source, PngEncoder.encode(picture));
        Path target = dir.resolve("png/thumbs/a.png");
        Thumbnail.write(source, target, 360);
        BufferedImage thumb = ImageIO.read(new ByteArrayInputStream(Files.readAllBytes(target)));
        assertEquals(360, thumb.getWidth());
        assertEquals(300, thumb.getHeight());
    }

    @Test
    void damagedPictureIsReported(@TempDir Path dir) throws IOException {
        Path source = dir.resolve("broken.png");
        Files.writeString(source, "this is no picture");
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> Thumbnail.write(source, dir.resolve("thumbs/broken.png"), 360));
        assertEquals("cannot make a thumbnail of the picture " + source + " (not a picture ImageIO can read);"
                + " the file may be damaged: run the sweep again to re-render it", e.getMessage());
    }

    @Test
    void truncatedPictureIsReported(@TempDir Path dir) throws IOException {
        BufferedImage picture = new BufferedImage(400, 300, BufferedImage.TYPE_INT_RGB);
        picture.setRGB(0, 0, 400, 300, pixels(400, 300, false, 5), 0, 400);
        byte[] png = HandMadePng.encode(picture.getRGB(0, 0, 400, 300, null, 0, 400), 400, 300, false, new int[] {0});
        // Keep the header and the first IDAT chunk only: half of the rows.
        int secondIdat = indexOf(png, "IDAT".getBytes(StandardCharsets.US_ASCII), indexOf(png, "IDAT".getBytes(StandardCharsets.US_ASCII), 0) + 4) - 4;
        Path source = dir.resolve("cut.png");
        Files.write(source, java.util.Arrays.copyOf(png, secondIdat));
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> Thumbnail.write(source, dir.resolve("thumbs/cut.png"), 100));
        assertTrue(e.getMessage().startsWith("cannot make a thumbnail of the picture " + source + " (the PNG image data ends after row "),
                e.getMessage());
        assertTrue(e.getMessage().endsWith(" of 300); the file may be damaged: run the sweep again to re-render it"), e.getMessage());
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int k = 0; k < needle.length; k++) {
                if (haystack[i + k] != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void zeroWidthIsRefused() {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> Thumbnail.scale(new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB), 0));
        assertEquals("thumbnail width 0 px must be at least 1", e.getMessage());
    }
}
