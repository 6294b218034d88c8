package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class LogBinsTest {
    private final LogBins bins = LogBins.STANDARD;

    @Test
    void hasEightBinsPerDecadeFrom1eMinus10To1e6() {
        double[] edges = bins.edges();
        assertEquals(128, bins.bins());
        assertEquals(129, edges.length);
        assertEquals(1e-10, edges[0]);
        assertEquals(1e-3, edges[56]);
        assertEquals(1.0, edges[80]);
        assertEquals(10.0, edges[88]);
        assertEquals(1e6, edges[128]);
        for (int k = 0; k <= 128; k++) {
            double expected = Math.pow(10, -10 + k / 8.0);
            assertEquals(expected, edges[k], 1e-15 * expected, "edge " + k);
            assertTrue(k == 0 || edges[k] > edges[k - 1]);
        }
    }

    @Test
    void edgesAreCopies() {
        bins.edges()[0] = 5;
        assertEquals(1e-10, bins.edges()[0]);
    }

    @Test
    void binOfPlacesAndFoldsValues() {
        assertEquals(0, bins.binOf(0));
        assertEquals(0, bins.binOf(1e-30));
        assertEquals(0, bins.binOf(1e-10));
        assertEquals(77, bins.binOf(0.5));
        assertEquals(79, bins.binOf(Math.nextDown(1.0)));
        assertEquals(80, bins.binOf(1.0));
        assertEquals(127, bins.binOf(Math.nextDown(1e6)));
        assertEquals(127, bins.binOf(1e6));
        assertEquals(127, bins.binOf(Double.POSITIVE_INFINITY));
        assertEquals(-1, bins.locate(Math.nextDown(1e-10)));
        assertEquals(128, bins.locate(1e6));
        assertThrows(IllegalArgumentException.class, () -> bins.binOf(Double.NaN));
    }

    @Test
    void bucketShortcutAgreesWithLocatingEachValue() {
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 50_000; i++) {
            float v = Float.intBitsToFloat(random.nextInt(0x7f800000));
            int bucket = bins.locateBucket(Float.floatToRawIntBits(v) >>> 16);
            if (bucket != LogBins.SPANS_EDGE) {
                assertEquals(bins.locate(v), bucket, "value " + v);
            }
        }
        int spanning = 0;
        for (int bucket = 0; bucket < 0x7f80; bucket++) {
            spanning += bins.locateBucket(bucket) == LogBins.SPANS_EDGE ? 1 : 0;
        }
        // one bucket per edge, except 1, 10, 100 and 1000, which start a bucket (float bits 0x....0000;
        // counted with CPython's struct module)
        assertEquals(125, spanning);
        assertEquals(LogBins.SPANS_EDGE, bins.locateBucket(Float.floatToRawIntBits(-1f) >>> 16));
        assertEquals(LogBins.SPANS_EDGE, bins.locateBucket(Float.floatToRawIntBits(Float.NaN) >>> 16));
    }

    @Test
    void locatingByBitsAgreesWithSearchingForEveryValueOfEverySpanningBucket() {
        int checked = 0;
        for (int bucket = 0; bucket < 0x7f80; bucket++) {
            if (bins.locateBucket(bucket) == LogBins.SPANS_EDGE) {
                for (int low = 0; low <= 0xffff; low++) {
                    int bits = bucket << 16 | low;
                    assertEquals(bins.locate(Float.intBitsToFloat(bits)), bins.locateBits(bits), "bits " + bits);
                    checked++;
                }
            }
        }
        assertEquals(125 * 65536, checked);
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < 50_000; i++) {
            int bits = random.nextInt(0x7f800001);
            assertEquals(bins.locate(Float.intBitsToFloat(bits)), bins.locateBits(bits), "bits " + bits);
        }
        assertEquals(128, bins.locateBits(Float.floatToRawIntBits(Float.POSITIVE_INFINITY)));
        assertEquals(-1, bins.locateBits(0));
        assertThrows(IllegalArgumentException.class, () -> bins.locateBits(Float.floatToRawIntBits(Float.NaN)));
    }
}
