package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Gram sums: merging, and the stored form a Gram pass's task result travels in. */
class GramSumsTest {

    static double[] random(int in, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] g = new double[in * in];
        for (int i = 0; i < g.length; i++) {
            g[i] = r.nextDouble(-1e6, 1e6);
        }
        return g;
    }

    static GramSums roundTrip(GramSums s) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(s);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (GramSums) in.readObject();
        }
    }

    @Test
    void storedSumsComeBackToTheBitInTheirOrder() throws Exception {
        // 400 x 400 = 160,000 entries: more than one chunk of 131,072
        Map<String, double[]> m = new LinkedHashMap<>();
        m.put("3/MLP_ACT", random(400, 1));
        m.put("0/ATTN_IN", random(3, 2));
        m.put("final/FINAL_NORM", new double[] {Double.NaN, -0.0, Double.MIN_VALUE, Double.POSITIVE_INFINITY});
        GramSums back = roundTrip(new GramSums(m, 37));
        assertEquals(List.of("3/MLP_ACT", "0/ATTN_IN", "final/FINAL_NORM"), List.copyOf(back.keys()));
        assertEquals(37, back.nsamples());
        for (String k : m.keySet()) {
            double[] expected = m.get(k);
            double[] actual = back.matrix(k);
            assertEquals(expected.length, actual.length, k);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(actual[i]), k + " " + i);
            }
        }
        GramSums empty = roundTrip(GramSums.empty());
        assertEquals(0, empty.keys().size());
        assertEquals(0, empty.nsamples());
    }

    @Test
    void theStoredFormIsTheDoublesLittleEndianAfterKeyAndLength() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(new GramSums(Map.of("0/ATTN_IN", new double[] {1.5}), 2));
        }
        byte[] all = bytes.toByteArray();
        // 1.5 = 0x3FF8000000000000, little-endian, right after the key and the length 1
        byte[] expected = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(1.5).array();
        byte[] keyAndLength = {0, 9, '0', '/', 'A', 'T', 'T', 'N', '_', 'I', 'N', 0, 0, 0, 1};
        int at = indexOf(all, keyAndLength);
        assertArrayEquals(expected, java.util.Arrays.copyOfRange(all, at + keyAndLength.length, at + keyAndLength.length + 8));
    }

    @Test
    void mergeAddsTapByTapAndRefusesMismatchedSizes() {
        GramSums a = new GramSums(Map.of("0/ATTN_IN", new double[] {1, 2, 3, 4}), 2);
        GramSums b = new GramSums(Map.of("0/ATTN_IN", new double[] {10, 20, 30, 40}, "1/MLP_IN", new double[] {5}), 3);
        GramSums sum = a.merge(b);
        assertArrayEquals(new double[] {11, 22, 33, 44}, sum.matrix("0/ATTN_IN"));
        assertArrayEquals(new double[] {5}, sum.matrix("1/MLP_IN"));
        assertEquals(5, sum.nsamples());
        assertArrayEquals(new double[] {1, 2, 3, 4}, a.matrix("0/ATTN_IN"), "operands unchanged");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> a.merge(new GramSums(Map.of("0/ATTN_IN", new double[9]), 1)));
        assertEquals("tap 0/ATTN_IN: Gram matrices of 4 and 9 entries", e.getMessage());
    }

    @Test
    void mergeTakingGivesTheSameBitsInTheOperandsArrays() {
        double[] a0 = random(5, 1);
        double[] b0 = random(5, 2);
        double[] b1 = random(3, 3);
        double[] expected = new double[a0.length];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = a0[i] + b0[i];
        }
        GramSums a = new GramSums(Map.of("0/ATTN_IN", a0.clone()), 2);
        GramSums b = new GramSums(Map.of("0/ATTN_IN", b0, "0/MLP_IN", b1), 3);
        GramSums sum = a.mergeTaking(b);
        assertArrayEquals(expected, sum.matrix("0/ATTN_IN"));
        assertSame(a.matrix("0/ATTN_IN"), sum.matrix("0/ATTN_IN"), "added into the running total's array");
        assertSame(b1, sum.matrix("0/MLP_IN"), "a tap of one operand only is taken over, not copied");
        assertEquals(5, sum.nsamples());
        assertEquals(List.of("0/ATTN_IN", "0/MLP_IN"), List.copyOf(sum.keys()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sum.mergeTaking(new GramSums(Map.of("0/MLP_IN", new double[4]), 1)));
        assertEquals("tap 0/MLP_IN: Gram matrices of 9 and 4 entries", e.getMessage());
    }

    private static int indexOf(byte[] all, byte[] part) {
        outer:
        for (int i = 0; i + part.length <= all.length; i++) {
            for (int j = 0; j < part.length; j++) {
                if (all[i + j] != part[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
