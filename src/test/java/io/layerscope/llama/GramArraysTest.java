package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.layerscope.stats.GramSums;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Gram passes' host arrays, reused from pass to pass. */
class GramArraysTest {
    @BeforeEach
    void nothingWaiting() {
        GramArrays.clear();
    }

    private static double[] filled(int length, double value) {
        double[] a = new double[length];
        java.util.Arrays.fill(a, value);
        return a;
    }

    @Test
    void aRecycledArrayOfTheSameLengthComesBackZeroedOnce() {
        double[] big = filled(16, 3.5);
        double[] small = filled(9, -1);
        Map<String, double[]> m = new LinkedHashMap<>();
        m.put("0/MLP_ACT", big);
        m.put("1/ATTN_IN", small);
        long reused = GramArrays.reused();
        GramArrays.zeroed(16);
        GramArrays.recycle(new GramSums(m, 4));
        assertEquals(2, GramArrays.waiting());

        double[] again = GramArrays.zeroed(16);
        assertSame(big, again);
        assertArrayEquals(new double[16], again);
        assertEquals(reused + 1, GramArrays.reused());
        assertNotSame(big, GramArrays.zeroed(16), "handed out once");
        assertEquals(reused + 1, GramArrays.reused());

        assertNotSame(small, GramArrays.zeroed(25), "another length is a new array");
        assertEquals(1, GramArrays.waiting());
        GramArrays.clear();
        assertEquals(0, GramArrays.waiting());
        assertNotSame(small, GramArrays.zeroed(9));
    }

    @Test
    void atMostOnePassWaitsAndNoneAfterAPassThatTookNoHostArrays() {
        GramArrays.zeroed(4);
        GramArrays.recycle(new GramSums(Map.of("a", new double[4], "b", new double[9]), 1));
        GramArrays.zeroed(4);
        GramArrays.recycle(new GramSums(Map.of("c", new double[16]), 1));
        assertEquals(1, GramArrays.waiting(), "the untaken 3 x 3 array of the pass before is dropped");
        // a pass on a GPU: its sums were device arrays, so nothing it recycles will be taken
        GramArrays.recycle(new GramSums(Map.of("d", new double[16]), 1));
        assertEquals(0, GramArrays.waiting());
    }

    @Test
    void withNothingRecycledEachArrayIsNewAndZero() {
        double[] a = GramArrays.zeroed(4);
        double[] b = GramArrays.zeroed(4);
        assertNotSame(a, b);
        assertArrayEquals(new double[4], a);
    }
}
