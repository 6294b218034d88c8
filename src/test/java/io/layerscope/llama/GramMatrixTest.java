package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.stats.GramProducts;
import io.layerscope.stats.GramSums;
import io.layerscope.stats.TapGram;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Gram matrices a forward accumulates on the device, against x x^T summed from the captured inputs. */
class GramMatrixTest {
    @TempDir
    static Path tmp;
    static Checkpoint f32;

    @BeforeAll
    static void writeModel() {
        f32 = Checkpoint.open(TinyModels.gqa(DType.F32).write(tmp.resolve("f32")));
    }

    @Test
    void gramMatricesEqualOuterProductsOfTheCapturedInputs() {
        List<int[]> windows = List.of(TinyModels.windows(1, 9, 5).get(0), TinyModels.windows(1, 14, 6).get(0),
                TinyModels.windows(1, 9, 7).get(0));
        try (LlamaModel model = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32)) {
            List<String> keys = List.of("0/ATTN_IN", "1/MLP_ACT", "final/FINAL_NORM");
            GramSums grams = model.forwardGrams(windows, 1, keys);
            assertEquals(3, grams.nsamples());
            assertEquals(keys, List.copyOf(grams.keys()));
            for (String key : keys) {
                double[] expected = null;
                int in = 0;
                for (int[] w : windows) {
                    float[] x = model.positionTaps(w).get(key);
                    in = x.length / w.length;
                    expected = expected == null ? new double[in * in] : expected;
                    for (int t = 0; t < w.length; t++) {
                        for (int j = 0; j < in; j++) {
                            for (int k = 0; k < in; k++) {
                                expected[j * in + k] += (double) x[t * in + j] * x[t * in + k];
                            }
                        }
                    }
                }
                double[] g = grams.matrix(key);
                double scale = 0;
                for (double v : expected) {
                    scale = Math.max(scale, Math.abs(v));
                }
                for (int e = 0; e < g.length; e++) {
                    assertEquals(expected[e], g[e], 2e-6 * scale, key + " entry " + e);
                }
                // symmetric to the bit: each product is x^T x
                for (int j = 0; j < in; j++) {
                    for (int k = 0; k < j; k++) {
                        assertEquals(g[j * in + k], g[k * in + j], key);
                    }
                }
            }
        }
    }

    @Test
    void diagonalOverSamplesIsScalerRow() {
        List<int[]> windows = TinyModels.windows(4, 11, 13);
        try (LlamaModel model = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32)) {
            LlamaModel.Pass pass = model.forward(windows, null, 1, model.tapKeys(), false, model.tapKeys());
            for (String key : model.tapKeys()) {
                double diff = TapGram.diagonalDifference(pass.grams().matrix(key), 4, pass.sums().scalerRow(key));
                assertTrue(diff < 1e-5, key + ": " + diff);
            }
        }
    }

    @Test
    void batchesAndShardsGiveTheSameMatrixToRounding() {
        List<int[]> windows = TinyModels.windows(6, 10, 17);
        List<String> keys = List.of("1/ATTN_OUT", "1/MLP_IN");
        try (LlamaModel model = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32)) {
            GramSums one = model.forwardGrams(windows, 1, keys);
            GramSums batched = model.forwardGrams(windows, 3, keys);
            GramSums shards = model.forwardGrams(windows.subList(0, 2), 1, keys)
                    .merge(model.forwardGrams(windows.subList(2, 5), 1, keys))
                    .merge(model.forwardGrams(windows.subList(5, 6), 1, keys));
            assertEquals(6, shards.nsamples());
            for (String key : keys) {
                double[] a = one.matrix(key);
                double[] b = shards.matrix(key);
                double[] c = batched.matrix(key);
                for (int e = 0; e < a.length; e++) {
                    // the same sequences' products, added in another order
                    assertEquals(a[e], b[e], 1e-12 * Math.abs(a[e]), key + " entry " + e);
                    // batched, the forward itself rounds differently (as the tap sums do)
                    assertEquals(a[e], c[e], 1e-5 * Math.abs(a[0] + a[a.length - 1]), key + " entry " + e);
                }
            }
        }
    }

    @Test
    void deviceQuadraticFormsEqualPlainLoops() {
        SplittableRandom r = new SplittableRandom(3);
        int in = 20;
        double[] g = gramOf(r, 50, in);
        double[] rows = r.doubles(9L * in, -2, 2).toArray();
        double[] expected = quadraticForms(g, rows, 7);
        // the host's GramProducts (for small layers and tests) against the same loops
        assertClose(expected, GramProducts.of(g).quadraticForms(rows, 7), 1e-12);
        try (DeviceGramProducts device = DeviceGramProducts.on(Device.cpu(), g)) {
            assertEquals(in, device.features());
            assertEquals(g[3 * in + 3], device.diagonal(3));
            double[] actual = device.quadraticForms(rows, 7);
            assertEquals(7, actual.length);
            assertClose(expected, actual, 1e-12);
        }
    }

    @Test
    void deviceQuadraticFormsOfPanelsEqualPlainLoopsAtEveryPanelEdge() {
        // the products read only G's diagonal blocks and lower triangle: panels of one column,
        // uneven last panels and one panel as wide as G must all give the plain loops' forms,
        // rows with zeros (a mask's pruned part) included
        SplittableRandom r = new SplittableRandom(5);
        int in = 20;
        double[] g = gramOf(r, 50, in);
        double[] rows = r.doubles(6L * in, -2, 2).map(v -> v < -1 ? 0 : v).toArray();
        double[] expected = quadraticForms(g, rows, 6);
        for (int panel : new int[] {1, 3, 6, 7, 19, 20, 64}) {
            try (DeviceGramProducts device = DeviceGramProducts.on(Device.cpu(), g, panel)) {
                assertClose(expected, device.quadraticForms(rows, 6), 1e-12);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> DeviceGramProducts.on(Device.cpu(), g, 0));
    }

    @Test
    void deviceQuadraticFormsWiderThanOnePanelEqualPlainLoops() {
        SplittableRandom r = new SplittableRandom(7);
        int in = 2 * DeviceGramProducts.PANEL + 76;
        double[] g = gramOf(r, 40, in);
        double[] rows = r.doubles(5L * in, -2, 2).toArray();
        double[] expected = quadraticForms(g, rows, 5);
        try (DeviceGramProducts device = DeviceGramProducts.on(Device.cpu(), g)) {
            assertClose(expected, device.quadraticForms(rows, 5), 1e-11);
        }
    }

    /**
     * v_r G v_r^T for the first {@code count} rows v_r of {@code rows}: the triple loop of the
     * definition, over every entry of G (the device reads only its lower triangle).
     */
    private static double[] quadraticForms(double[] g, double[] rows, int count) {
        int in = (int) Math.round(Math.sqrt(g.length));
        double[] forms = new double[count];
        for (int r = 0; r < count; r++) {
            for (int j = 0; j < in; j++) {
                for (int k = 0; k < in; k++) {
                    forms[r] += rows[r * in + j] * g[j * in + k] * rows[r * in + k];
                }
            }
        }
        return forms;
    }

    /** sum_t x_t^T x_t over {@code tokens} random rows of {@code in} features, by plain loops. */
    private static double[] gramOf(SplittableRandom r, int tokens, int in) {
        double[] x = r.doubles((long) tokens * in, -1, 1).toArray();
        double[] g = new double[in * in];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < in; j++) {
                for (int k = 0; k < in; k++) {
                    g[j * in + k] += x[t * in + j] * x[t * in + k];
                }
            }
        }
        return g;
    }

    private static void assertClose(double[] expected, double[] actual, double relative) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], relative * Math.abs(expected[i]), "row " + i);
        }
    }
}
