package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ColorMapTest {

    /** WCAG relative luminance of an sRGB colour, written out independently of the OKLab code. */
    private static double luminance(int rgb) {
        double[] c = new double[3];
        for (int k = 0; k < 3; k++) {
            double v = ((rgb >> (16 - 8 * k)) & 0xFF) / 255.0;
            c[k] = v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
        }
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    }

    private static void assertClose(int expected, int actual) {
        for (int shift = 0; shift <= 16; shift += 8) {
            int e = (expected >> shift) & 0xFF;
            int a = (actual >> shift) & 0xFF;
            assertTrue(Math.abs(e - a) <= 1, String.format("expected #%06X, got #%06X", expected, actual));
        }
    }

    @Test
    void endsAtViridisEndpoints() {
        assertClose(0x440154, ColorMap.VIRIDIS.entry(0));
        assertClose(0xFDE725, ColorMap.VIRIDIS.entry(ColorMap.SIZE - 1));
        assertClose(0x440154, ColorMap.VIRIDIS.rgb(-3));
        assertClose(0xFDE725, ColorMap.VIRIDIS.rgb(7));
        assertEquals(ColorMap.VIRIDIS.entry(0), ColorMap.VIRIDIS.rgb(Double.NaN));
    }

    @Test
    void passesThroughEveryAnchorAtItsPosition() {
        int[] anchors = {0x440154, 0x482878, 0x3E4989, 0x31688E, 0x26828E, 0x1F9E89, 0x35B779, 0x6ECE58, 0xB5DE2B, 0xFDE725};
        // Anchor k sits at table position k * 255 / 9: exact for k = 0, 3, 6, 9.
        for (int k = 0; k < anchors.length; k += 3) {
            assertClose(anchors[k], ColorMap.VIRIDIS.entry(k * 255 / 9));
        }
    }

    @Test
    void luminanceRisesUpToRounding() {
        // Rounding to 8 bits per channel may tie neighbours or dip by a fraction of one level;
        // four steps apart luminance must rise.
        for (int i = 1; i < ColorMap.SIZE; i++) {
            assertTrue(luminance(ColorMap.VIRIDIS.entry(i)) > luminance(ColorMap.VIRIDIS.entry(i - 1)) - 0.001,
                    "luminance falls at entry " + i);
        }
        for (int i = 4; i < ColorMap.SIZE; i++) {
            assertTrue(luminance(ColorMap.VIRIDIS.entry(i)) > luminance(ColorMap.VIRIDIS.entry(i - 4)),
                    "luminance is flat from entry " + (i - 4) + " to " + i);
        }
    }

    @Test
    void positionsMapToTableEntries() {
        assertEquals(ColorMap.VIRIDIS.entry(128), ColorMap.VIRIDIS.rgb(0.5));
        assertEquals(ColorMap.VIRIDIS.entry(255), ColorMap.VIRIDIS.rgb(0.9999));
        assertEquals(ColorMap.VIRIDIS.entry(0), ColorMap.VIRIDIS.rgb(0.001));
        assertEquals(ColorMap.VIRIDIS.entry(64), ColorMap.VIRIDIS.color(0.25).getRGB() & 0xFFFFFF);
    }
}
