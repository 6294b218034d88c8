package io.layerscope.plot;

import java.awt.Color;

/**
 * A perceptually ordered colour map: 256 colours whose lightness rises steadily (up to 8-bit
 * rounding) from dark blue-violet to yellow, so brighter always means larger and the map survives
 * greyscale printing and common colour-vision deficiencies. JFreeChart ships no such map, so the lookup table is built here.
 *
 * <p>{@link #VIRIDIS} follows matplotlib's viridis: its ten published sample colours (the
 * {@code viridis(10)} hex values) are interpolated in the OKLab colour space, where straight lines are
 * perceptually even, into a 256-entry table.
 *
 * <pre>{@code
 * int rgb = ColorMap.VIRIDIS.rgb(0.5);   // a teal, 0xRRGGBB
 * }</pre>
 */
public final class ColorMap {
    /** Number of entries in the lookup table. */
    public static final int SIZE = 256;

    /** matplotlib's viridis, sampled at ten evenly spaced points, as anchors of the table. */
    public static final ColorMap VIRIDIS = fromAnchors(new int[] {
        0x440154, 0x482878, 0x3E4989, 0x31688E, 0x26828E, 0x1F9E89, 0x35B779, 0x6ECE58, 0xB5DE2B, 0xFDE725});

    private final int[] table;

    private ColorMap(int[] table) {
        this.table = table;
    }

    /** Builds a table by piecewise-linear interpolation in OKLab between evenly spaced anchor colours. */
    static ColorMap fromAnchors(int[] anchors) {
        double[][] lab = new double[anchors.length][];
        for (int k = 0; k < anchors.length; k++) {
            lab[k] = OkLab.fromRgb(anchors[k]);
        }
        int[] table = new int[SIZE];
        for (int i = 0; i < SIZE; i++) {
            double pos = i * (anchors.length - 1) / (double) (SIZE - 1);
            int k = Math.min((int) pos, anchors.length - 2);
            double t = pos - k;
            double[] mix = new double[3];
            for (int c = 0; c < 3; c++) {
                mix[c] = lab[k][c] + t * (lab[k + 1][c] - lab[k][c]);
            }
            table[i] = OkLab.toRgb(mix);
        }
        return new ColorMap(table);
    }

    /** The colour at position {@code t} in [0, 1] (clamped) as 0xRRGGBB. */
    public int rgb(double t) {
        return table[index(t)];
    }

    /** The table index of position {@code t} in [0, 1]: clamped, NaN at 0. */
    static int index(double t) {
        if (!(t > 0)) {
            return 0;
        }
        return t >= 1 ? SIZE - 1 : (int) (t * SIZE);
    }

    /** The colour at position {@code t} in [0, 1] (clamped). */
    public Color color(double t) {
        return new Color(rgb(t));
    }

    /** Table entry {@code i} (0..255) as 0xRRGGBB. */
    public int entry(int i) {
        return table[i];
    }

    /** OKLab (Björn Ottosson, 2020) conversions from and to 8-bit sRGB. */
    static final class OkLab {
        private OkLab() {
        }

        static double[] fromRgb(int rgb) {
            double r = toLinear((rgb >> 16) & 0xFF);
            double g = toLinear((rgb >> 8) & 0xFF);
            double b = toLinear(rgb & 0xFF);
            double l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
            double m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
            double s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
            return new double[] {
                0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
                1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
                0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s};
        }

        static int toRgb(double[] lab) {
            double l = lab[0] + 0.3963377774 * lab[1] + 0.2158037573 * lab[2];
            double m = lab[0] - 0.1055613458 * lab[1] - 0.0638541728 * lab[2];
            double s = lab[0] - 0.0894841775 * lab[1] - 1.2914855480 * lab[2];
            l = l * l * l;
            m = m * m * m;
            s = s * s * s;
            int r = toByte(4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s);
            int g = toByte(-1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s);
            int b = toByte(-0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s);
            return (r << 16) | (g << 8) | b;
        }

        private static double toLinear(int channel) {
            double c = channel / 255.0;
            return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
        }

        private static int toByte(double linear) {
            double c = linear <= 0.0031308 ? 12.92 * linear : 1.055 * Math.pow(linear, 1 / 2.4) - 0.055;
            return (int) Math.round(Math.max(0, Math.min(1, c)) * 255);
        }
    }
}
