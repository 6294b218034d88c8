package io.layerscope.plot;

import java.awt.Color;
import java.awt.Paint;
import org.jfree.chart.renderer.PaintScale;

/**
 * Maps heatmap values to colours of a {@link ColorMap}, linearly or logarithmically.
 *
 * <p>{@link #fit} chooses a logarithmic scale when the positive values span more than two orders of
 * magnitude (max / smallest positive above {@value #LOG_SPAN}), as Wanda heatmaps with outlier
 * features do; a linear scale would paint everything but the outliers in the darkest colour. On a
 * log scale the colour is that of {@code log10(value)}; zero and negative values (which |W| and
 * Wanda cells only reach when a whole block is zero) take the darkest colour. NaN is grey.
 *
 * <p>As a JFreeChart {@link PaintScale} (for the colour bar) it works in scale units: raw values on
 * a linear scale, {@code log10} of values on a log scale; {@link #rgbOf(double)} takes raw values.
 */
public final class HeatmapColorScale implements PaintScale {
    /** Ratio of max to smallest positive value above which the scale is logarithmic. */
    public static final double LOG_SPAN = 100;
    /** Index standing for NaN: above every colour, so NaN wins a maximum as it does in {@code Math.max}. */
    static final int NAN_INDEX = ColorMap.SIZE;
    private static final int NAN_RGB = 0xBFBFBF;

    private final ColorMap colors;
    private final boolean log;
    private final double lower;
    private final double upper;

    private HeatmapColorScale(ColorMap colors, boolean log, double lower, double upper) {
        this.colors = colors;
        this.log = log;
        this.lower = lower;
        this.upper = upper;
    }

    /** A linear scale over raw values {@code [lower, upper]}. */
    public static HeatmapColorScale linear(ColorMap colors, double lower, double upper) {
        return new HeatmapColorScale(colors, false, lower, upper);
    }

    /** A log scale over raw values {@code [lower, upper]}, both positive. */
    public static HeatmapColorScale logarithmic(ColorMap colors, double lower, double upper) {
        return new HeatmapColorScale(colors, true, Math.log10(lower), Math.log10(upper));
    }

    /** The scale that fits the finite values of {@code m}, log when they span more than two decades. */
    public static HeatmapColorScale fit(ColorMap colors, ReducedMatrix m) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double minPositive = Double.POSITIVE_INFINITY;
        for (float v : m.values()) {
            if (Float.isFinite(v)) {
                min = Math.min(min, v);
                max = Math.max(max, v);
                if (v > 0) {
                    minPositive = Math.min(minPositive, v);
                }
            }
        }
        if (min > max) {            // no finite value at all
            return linear(colors, 0, 1);
        }
        if (max > 0 && max / minPositive > LOG_SPAN) {
            return logarithmic(colors, minPositive, max);
        }
        if (min == max) {           // a constant matrix still needs a non-empty range
            double pad = min == 0 ? 1 : Math.abs(min) * 0.5;
            return linear(colors, min - pad, max + pad);
        }
        return linear(colors, min, max);
    }

    /** True for a log10 scale. */
    public boolean isLogarithmic() {
        return log;
    }

    /** Lower bound in scale units (log10 of the raw bound on a log scale). */
    @Override
    public double getLowerBound() {
        return lower;
    }

    /** Upper bound in scale units (log10 of the raw bound on a log scale). */
    @Override
    public double getUpperBound() {
        return upper;
    }

    /** The colour of a position given in scale units. */
    @Override
    public Paint getPaint(double scaleValue) {
        return new Color(rgbOfScaleValue(scaleValue));
    }

    /** The colour of a raw value as 0xRRGGBB. */
    public int rgbOf(double value) {
        return rgbOfIndex(indexOf(value));
    }

    /**
     * The colour-table index of a raw value: 0 to {@code ColorMap.SIZE - 1}, non-decreasing in the
     * value, and {@link #NAN_INDEX} (above all others) for NaN. Because the order is kept, the maximum
     * of indices is the index of the maximum, which lets a heatmap take block maxima on indices.
     */
    int indexOf(double value) {
        if (Double.isNaN(value)) {
            return NAN_INDEX;
        }
        if (log) {
            return value > 0 ? indexOfScaleValue(Math.log10(value)) : 0;
        }
        return indexOfScaleValue(value);
    }

    /**
     * {@link #indexOf(double)} of every value, with the same results. On a logarithmic scale it takes
     * no logarithm per value (a log10 per cell was most of a heatmap's drawing time). The index is a
     * non-decreasing function of the value (Math.log10 is semi-monotonic; the scaling and the table
     * lookup keep order), so the smallest float reaching each index is found once, by bisection over
     * float bit patterns (positive floats order as their bits). A table over the top 16 bits of a
     * float (sign, exponent and 7 mantissa bits: buckets under 1% wide) then gives the index at the
     * start of the value's bucket, and a step or two over the thresholds finishes it.
     */
    int[] indicesOf(float[] values) {
        int[] indices = new int[values.length];
        if (!log) {
            for (int k = 0; k < values.length; k++) {
                indices[k] = indexOf(values[k]);
            }
            return indices;
        }
        float[] reaches = new float[ColorMap.SIZE];   // reaches[i]: the smallest positive float whose index >= i
        for (int i = 1; i < ColorMap.SIZE; i++) {
            reaches[i] = smallestReaching(i);
        }
        int[] atBucketStart = new int[1 << 15];       // buckets of positive floats, by their top bits
        for (int b = 0, index = 0; b < atBucketStart.length; b++) {
            float start = Float.intBitsToFloat(b << 16);
            while (index < ColorMap.SIZE - 1 && reaches[index + 1] <= start) {
                index++;
            }
            atBucketStart[b] = index;
        }
        for (int k = 0; k < values.length; k++) {
            float v = values[k];
            if (Float.isNaN(v)) {
                indices[k] = NAN_INDEX;
            } else if (!(v > 0)) {
                indices[k] = 0;
            } else {
                int index = atBucketStart[Float.floatToRawIntBits(v) >>> 16];
                while (index < ColorMap.SIZE - 1 && reaches[index + 1] <= v) {
                    index++;
                }
                indices[k] = index;
            }
        }
        return indices;
    }

    /** The smallest positive float whose index is at least {@code index} (+infinity reaches the top index). */
    private float smallestReaching(int index) {
        int lo = 1;                                            // Float.MIN_VALUE
        int hi = Float.floatToRawIntBits(Float.POSITIVE_INFINITY);
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (indexOf(Float.intBitsToFloat(mid)) >= index) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return Float.intBitsToFloat(lo);
    }

    /** The colour of a table index from {@link #indexOf(double)}. */
    int rgbOfIndex(int index) {
        return index == NAN_INDEX ? NAN_RGB : colors.entry(index);
    }

    private int indexOfScaleValue(double s) {
        return ColorMap.index((s - lower) / (upper - lower));
    }

    private int rgbOfScaleValue(double s) {
        return Double.isNaN(s) ? NAN_RGB : colors.entry(indexOfScaleValue(s));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HeatmapColorScale s && s.colors == colors && s.log == log
                && Double.compare(s.lower, lower) == 0 && Double.compare(s.upper, upper) == 0;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(log, lower, upper);
    }
}
