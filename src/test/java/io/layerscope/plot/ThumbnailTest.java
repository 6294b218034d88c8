package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

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
    void layerPictureBecomes360By300() {
        BufferedImage picture = new BufferedImage(2400, 2000, BufferedImage.TYPE_INT_RGB);
        BufferedImage thumb = Thumbnail.scale(picture, 360);
        assertEquals(360, thumb.getWidth());
        assertEquals(300, thumb.getHeight());
        BufferedImage small = new BufferedImage(200, 100, BufferedImage.TYPE_INT_RGB);
        assertEquals(200, Thumbnail.scale(small, 360).getWidth(), "never enlarged");
    }

    @Test
    void thinLinesSurviveAsGrey() {
        // A 1 px black line on white, 2400 px wide: sampling every 6.7th column would usually miss it.
        BufferedImage picture = new BufferedImage(2400, 600, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 600; y++) {
            for (int x = 0; x < 2400; x++) {
                picture.setRGB(x, y, x == 1003 ? 0 : 0xFFFFFF);
            }
        }
        BufferedImage thumb = Thumbnail.scale(picture, 360);
        int darkest = 255;
        for (int x = 0; x < thumb.getWidth(); x++) {
            darkest = Math.min(darkest, thumb.getRGB(x, 40) & 0xFF);
        }
        // The box step averages it into one 6-pixel-wide block (255 * 5/6 = 212.5); bilinear keeps most of that.
        assertTrue(darkest < 235, "the line should remain visible, darkest column " + darkest);
        assertTrue(darkest > 150, "the line should be averaged, not kept black: " + darkest);
    }

    @Test
    void zeroWidthIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Thumbnail.scale(new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB), 0));
        assertEquals("thumbnail width 0 px must be at least 1", e.getMessage());
    }
}
