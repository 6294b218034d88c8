package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TapSumsTest {
    private static TapSums sums(long n, long t, Object... keysAndValues) {
        Map<String, float[]> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], (float[]) keysAndValues[i + 1]);
        }
        return new TapSums(m, n, t);
    }

    @Test
    void onlyKeepsTheTapsAskedForInTheirOrderWithTheCounts() {
        TapSums all = sums(3, 12, "0/ATTN_IN", new float[] {1f, 2f}, "0/MLP_ACT", new float[] {4f}, "1/ATTN_IN",
                new float[] {8f, -0f});
        TapSums some = all.only(List.of("1/ATTN_IN", "0/ATTN_IN"));
        assertEquals(List.of("1/ATTN_IN", "0/ATTN_IN"), List.copyOf(some.keys()));
        assertArrayEquals(new float[] {8f, -0f}, some.sumSq().get("1/ATTN_IN"));
        assertArrayEquals(new float[] {1f, 2f}, some.sumSq().get("0/ATTN_IN"));
        assertEquals(3, some.nsamples());
        assertEquals(12, some.ntokens());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> all.only(List.of("2/ATTN_IN")));
        assertEquals("no sums of tap 2/ATTN_IN among [0/ATTN_IN, 0/MLP_ACT, 1/ATTN_IN]", e.getMessage());
    }

    @Test
    void mergeAddsSumsAndCountsInFloat32() {
        TapSums a = sums(2, 10, "0/ATTN_IN", new float[] {1f, 2f, 16777216f}, "0/MLP_ACT", new float[] {0.25f});
        TapSums b = sums(1, 4, "0/ATTN_IN", new float[] {0.5f, 3f, 1f}, "0/MLP_ACT", new float[] {0.5f});
        TapSums m = a.merge(b);
        assertEquals(3, m.nsamples());
        assertEquals(14, m.ntokens());
        // 16777216 + 1 is not representable in float32: it rounds back to 16777216.
        assertArrayEquals(new float[] {1.5f, 5f, 16777216f}, m.sumSq().get("0/ATTN_IN"));
        assertArrayEquals(new float[] {0.75f}, m.sumSq().get("0/MLP_ACT"));
        assertArrayEquals(new float[] {0.5f, 1.6666666f, 5592405.5f}, m.scalerRow("0/ATTN_IN"));
        assertSame(m, m.merge(TapSums.empty()));
        assertSame(m, TapSums.empty().merge(m));
    }

    @Test
    void scalerRowDividesBySequencesNotTokens() {
        assertArrayEquals(new float[] {0.33333334f, 2f}, sums(3, 300, "k", new float[] {1f, 6f}).scalerRow("k"));
    }

    @Test
    void mismatchesGetAMessage() {
        TapSums a = sums(1, 5, "0/ATTN_IN", new float[] {1f});
        assertEquals("cannot merge activation sums of different taps: [0/ATTN_IN] vs [1/ATTN_IN]; every shard must run"
                        + " the same model up to the same block",
                assertThrows(IllegalStateException.class, () -> a.merge(sums(1, 5, "1/ATTN_IN", new float[] {1f}))).getMessage());
        assertEquals("cannot merge activation sums of tap 0/ATTN_IN: 1 features vs 2; the shards ran different models"
                        + " (every node must hold the same checkpoint at the model's path, or use --ship-model)",
                assertThrows(LayerscopeException.class, () -> a.merge(sums(1, 5, "0/ATTN_IN", new float[] {1f, 2f}))).getMessage());
        assertEquals("no activation sums for tap 0/MLP_IN; the forward pass collected 0/ATTN_IN",
                assertThrows(LayerscopeException.class, () -> a.scalerRow("0/MLP_IN")).getMessage());
        assertEquals("no calibration sequences were run, so tap k has no scaler_row",
                assertThrows(LayerscopeException.class, () -> sums(0, 0, "k", new float[] {0f}).scalerRow("k")).getMessage());
    }

    @Test
    void survivesJavaSerializationAndIsNotAliased() throws Exception {
        float[] raw = {1f, 2f};
        TapSums a = sums(4, 40, "final/FINAL_NORM", raw);
        raw[0] = 99f;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(a);
        }
        TapSums back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = (TapSums) in.readObject();
        }
        assertEquals(4, back.nsamples());
        assertEquals(40, back.ntokens());
        assertArrayEquals(new float[] {1f, 2f}, back.sumSq().get("final/FINAL_NORM"));
    }
}
