package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Gram sums kept as Java arrays (CPU) against the sums kept on the device (GPU), on CPU libtorch. */
class GramAccumulatorTest {
    /** 300 features: 90,000 entries, more than one chunk of the host path's copy. */
    static final int IN = 300;

    @ParameterizedTest(name = "panels of {0} columns")
    @ValueSource(ints = {GramAccumulator.PANEL, 1, 7, 64, 299, 300})
    void hostSumsAreTheDeviceSumsToTheBitAndTheSumsOfOuterProducts(int panel) {
        SplittableRandom rnd = new SplittableRandom(17);
        // two batches: 2 sequences of 5 tokens, then 1 of 3
        List<float[]> batches = List.of(new float[2 * 5 * IN], new float[3 * IN]);
        for (float[] b : batches) {
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) (rnd.nextGaussian() * (i % 7 == 0 ? 8 : 1));
            }
        }
        try (NDManager manager = NDManager.newBaseManager(ai.djl.Device.cpu())) {
            Map<String, double[]> host = sums(manager, batches, true, panel);
            Map<String, double[]> device = sums(manager, batches, false, panel);
            assertEquals(List.of("0/MLP_ACT"), List.copyOf(host.keySet()));
            assertArrayEquals(device.get("0/MLP_ACT"), host.get("0/MLP_ACT"));
            // each entry against sum over tokens of x_j x_k in double (the products round in float32)
            double[] g = host.get("0/MLP_ACT");
            double[] expected = new double[IN * IN];
            double scale = 0;
            for (float[] b : batches) {
                for (int t = 0; t < b.length / IN; t++) {
                    for (int j = 0; j < IN; j++) {
                        for (int k = 0; k < IN; k++) {
                            expected[j * IN + k] += (double) b[t * IN + j] * b[t * IN + k];
                        }
                    }
                }
            }
            for (double v : expected) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int e = 0; e < g.length; e++) {
                assertEquals(expected[e], g[e], 1e-6 * scale, "entry " + e);
            }
            // only the lower triangle is multiplied; the upper is its copy
            for (int j = 0; j < IN; j++) {
                for (int k = j + 1; k < IN; k++) {
                    assertEquals(g[k * IN + j], g[j * IN + k], "entries " + j + ", " + k);
                }
            }
        }
    }

    @Test
    void refusesAnEmptyPanel() {
        try (NDManager manager = NDManager.newBaseManager(ai.djl.Device.cpu())) {
            assertThrows(IllegalArgumentException.class, () -> new GramAccumulator(manager, Set.of("0/MLP_ACT"), true, 0));
        }
    }

    private static Map<String, double[]> sums(NDManager manager, List<float[]> batches, boolean onHost, int panel) {
        try (NDManager call = manager.newSubManager()) {
            GramAccumulator acc = new GramAccumulator(call, Set.of("0/MLP_ACT"), onHost, panel);
            for (float[] b : batches) {
                int sequences = b.length == 2 * 5 * IN ? 2 : 1;
                NDArray x = call.create(b, new Shape(sequences, b.length / IN / sequences, IN));
                acc.accept("0/MLP_ACT", x);
            }
            return acc.toHost();
        }
    }
}
