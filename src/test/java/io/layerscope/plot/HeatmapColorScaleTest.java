package io.layerscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import org.junit.jupiter.api.Test;

class HeatmapColorScaleTest {
    private static final ColorMap V = ColorMap.VIRIDIS;

    private static ReducedMatrix row(float... values) {
        return new ReducedMatrix(values, 1, values.length, 1, 1);
    }

    @Test
    void staysLinearWithinTwoDecades() {
        HeatmapColorScale s = HeatmapColorScale.fit(V, row(0.5f, 2f, 50f));
        assertFalse(s.isLogarithmic());
        assertEquals(0.5, s.getLowerBound());
        assertEquals(50, s.getUpperBound());
        assertEquals(V.entry(0), s.rgbOf(0.5));
        assertEquals(V.entry(255), s.rgbOf(50));
        // (25.25 - 0.5) / 49.5 = 0.5 -> entry 128
        assertEquals(V.entry(128), s.rgbOf(25.25));
    }

    @Test
    void turnsLogarithmicBeyondTwoDecades() {
        HeatmapColorScale s = HeatmapColorScale.fit(V, row(0f, 0.001f, 0.05f, 10f));
        assertTrue(s.isLogarithmic());
        assertEquals(-3, s.getLowerBound(), 1e-6);
        assertEquals(1, s.getUpperBound(), 1e-6);
        assertEquals(V.entry(0), s.rgbOf(0.001));
        assertEquals(V.entry(255), s.rgbOf(10));
        assertEquals(V.entry(0), s.rgbOf(0));              // zero: darkest colour
        assertEquals(V.entry(0), s.rgbOf(-4));
    }

    @Test
    void logScaleIsEvenInDecades() {
        // Powers of two are exact in float: log10 bounds are -log10(16) and +log10(16), 1 sits halfway.
        HeatmapColorScale s = HeatmapColorScale.fit(V, row(0.0625f, 1f, 16f));
        assertTrue(s.isLogarithmic());
        assertEquals(V.entry(128), s.rgbOf(1));
        assertEquals(V.entry(0), s.rgbOf(0.0625));
        assertEquals(V.entry(255), s.rgbOf(16));
        assertEquals(new Color(V.entry(128)), s.getPaint(0.0));
    }

    @Test
    void indicesKeepTheOrderOfValuesWithNaNOnTop() {
        HeatmapColorScale s = HeatmapColorScale.fit(V, row(0.001f, 10f));
        int previous = -1;
        for (double v = 0.0005; v < 20; v *= 1.1) {
            int index = s.indexOf(v);
            assertTrue(index >= previous, "index falls at " + v);
            assertEquals(s.rgbOf(v), s.rgbOfIndex(index));
            previous = index;
        }
        assertEquals(HeatmapColorScale.NAN_INDEX, s.indexOf(Double.NaN));
        assertTrue(HeatmapColorScale.NAN_INDEX > s.indexOf(Double.POSITIVE_INFINITY));
    }

    @Test
    void exactlyOneHundredIsStillLinear() {
        assertFalse(HeatmapColorScale.fit(V, row(0.25f, 25f)).isLogarithmic());
        assertTrue(HeatmapColorScale.fit(V, row(0.24f, 25f)).isLogarithmic());
    }

    @Test
    void constantAndNonFiniteInputStillGiveARange() {
        HeatmapColorScale constant = HeatmapColorScale.fit(V, row(2f, 2f));
        assertEquals(1, constant.getLowerBound());
        assertEquals(3, constant.getUpperBound());
        HeatmapColorScale zeros = HeatmapColorScale.fit(V, row(0f, 0f));
        assertEquals(-1, zeros.getLowerBound());
        assertEquals(1, zeros.getUpperBound());
        HeatmapColorScale nan = HeatmapColorScale.fit(V, row(Float.NaN, Float.POSITIVE_INFINITY));
        assertEquals(0, nan.getLowerBound());
        assertEquals(1, nan.getUpperBound());
        assertEquals(0xBFBFBF, nan.rgbOf(Double.NaN));
    }

    @Test
    void indicesOfManyValuesEqualIndexOfEachOnLogAndLinearScales() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        for (HeatmapColorScale scale : new HeatmapColorScale[] {
            HeatmapColorScale.logarithmic(ColorMap.VIRIDIS, 3.7e-6, 41.5),
            HeatmapColorScale.logarithmic(ColorMap.VIRIDIS, 1e-30, 1e30),
            HeatmapColorScale.logarithmic(ColorMap.VIRIDIS, 0.999, 1.001),
            HeatmapColorScale.linear(ColorMap.VIRIDIS, -2, 5)}) {
            java.util.List<Float> v = new java.util.ArrayList<>(java.util.List.of(Float.NaN, 0f, -0f, -1f,
                    Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.MIN_VALUE, Float.MAX_VALUE, 1f));
            for (int i = 0; i < 200_000; i++) {
                v.add((float) Math.pow(10, random.nextDouble(-40, 40)));
                v.add((float) random.nextDouble(-3, 6));
            }
            // the floats on both sides of each colour boundary, found by the per-value formula
            for (int i = 0; i < ColorMap.SIZE; i++) {
                float b = (float) Math.pow(10, Math.log10(3.7e-6) + i * (Math.log10(41.5) - Math.log10(3.7e-6)) / ColorMap.SIZE);
                for (float f : new float[] {b, Math.nextUp(b), Math.nextDown(b), Math.nextUp(Math.nextUp(b))}) {
                    v.add(f);
                }
            }
            float[] values = new float[v.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = v.get(i);
            }
            int[] fast = scale.indicesOf(values);
            for (int i = 0; i < values.length; i++) {
                assertEquals(scale.indexOf(values[i]), fast[i], "value " + values[i]);
            }
        }
    }
}
