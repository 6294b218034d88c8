package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.layerscope.LayerscopeException;
import io.layerscope.stats.Distribution;
import io.layerscope.stats.LayerStatistics;
import io.layerscope.stats.LayerStats;
import io.layerscope.stats.MaskAgreement;
import io.layerscope.stats.RowPruner;
import io.layerscope.stats.Summary;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The libtorch statistics on CPU libtorch against the plain-Java path: masks identical (ties
 * included), order statistics and histograms identical, every double sum within 1e-6 relative.
 */
class DeviceLayerStatisticsTest {
    private static final double RELATIVE = 1e-6;

    @ParameterizedTest(name = "{0}x{1} random, blocks of {2}, sparsity {3}")
    @CsvSource({"64, 48, 1000, 0.5", "37, 130, 512, 0.5", "200, 256, 65536, 0.7", "5, 7, 1, 0.3", "9, 3, 10, 0.5",
            "1, 4096, 4096, 0.5"})
    void randomLayersMatchThePlainPath(int out, int in, long blockEntries, double sparsity) {
        Random r = new Random(out * 31L + in);
        float[] w = new float[out * in];
        for (int e = 0; e < w.length; e++) {
            w[e] = (float) (r.nextGaussian() * 0.02);
        }
        assertSame(out, in, w, scalerRow(r, in, false), sparsity, blockEntries);
    }

    /** Quantised weights (a handful of values, so huge ties), zero rows and columns, zero features. */
    @ParameterizedTest(name = "{0}x{1} ties, blocks of {2}")
    @CsvSource({"48, 64, 640", "33, 20, 100", "16, 8, 8"})
    void layersWithTiesMatchThePlainPath(int out, int in, long blockEntries) {
        Random r = new Random(in);
        float[] w = new float[out * in];
        for (int e = 0; e < w.length; e++) {
            w[e] = (r.nextInt(9) - 4) / 64f;
        }
        for (int j = 0; j < in; j++) {
            w[3 * in + j] = 0f;               // a zero row
        }
        for (int i = 0; i < out; i++) {
            w[i * in + 5] = 0f;               // a zero column
            w[i * in + 6] = -0f;              // and one of negative zeros
        }
        float[] scaler = scalerRow(r, in, true);
        assertSame(out, in, w, scaler, 0.5, blockEntries);
        assertSame(out, in, w, scaler, 0.25, blockEntries);
    }

    @Test
    void extremeValuesKeepTheirExactBits() {
        int out = 4;
        int in = 8;
        float[] w = {Float.MIN_VALUE, 1e-40f, Float.MIN_NORMAL, 1f, 2f, Math.nextDown(2f), Math.nextUp(1f), 3e38f,
                1e-8f, 1e-10f, (float) 1e-10 * 1.0000001f, 10f, 1e6f, Float.MAX_VALUE, 0.125f, 0.1f,
                -1f, 1f, -1f, 1f, 0f, 0f, 0f, 0f,
                0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
        float[] scaler = {1f, 4f, 0f, 1e-20f, 9f, 1f, 2f, 1f};
        assertSame(out, in, w, scaler, 0.5, 8);
    }

    /** The device's per-row and 2:4 selections are RowPruner's masks, entry for entry, on tie-rich rows. */
    @Test
    void rowAndTwoOfFourMasksAreRowPrunersMasks() {
        Random r = new Random(7);
        int rows = 50;
        int in = 24;
        float[] x = new float[rows * in];
        for (int e = 0; e < x.length; e++) {
            x[e] = r.nextInt(4) * 0.25f;
        }
        try (NDManager m = NativeLibrary.engine().newBaseManager(Device.cpu())) {
            NDArray a = DeviceArrays.floats(m, x, new Shape(rows, in));
            for (int k : new int[] {0, 1, 5, 12, 23, 24}) {
                boolean[] device = DeviceLayerStatistics.smallest(a, k, 1).toBooleanArray();
                RowPruner pruner = new RowPruner(in, k / (double) in);
                byte[] pruned = new byte[in];
                for (int i = 0; i < rows; i++) {
                    float[] row = java.util.Arrays.copyOfRange(x, i * in, i * in + in);
                    pruner.unstructured(row, pruned);
                    for (int j = 0; j < in; j++) {
                        assertEquals(pruned[j] == 1, device[i * in + j], "k=" + k + " row " + i + " column " + j);
                    }
                }
            }
            boolean[] twoOfFour = DeviceLayerStatistics.smallest(a.reshape(rows, in / 4, 4), 2, 2).toBooleanArray();
            byte[] pruned = new byte[in];
            for (int i = 0; i < rows; i++) {
                RowPruner.nOfM(java.util.Arrays.copyOfRange(x, i * in, i * in + in), 2, 4, pruned);
                for (int j = 0; j < in; j++) {
                    assertEquals(pruned[j] == 1, twoOfFour[i * in + j], "2:4 row " + i + " column " + j);
                }
            }
        }
    }

    @Test
    void badInputIsRefusedWithThePlainPathsMessage() {
        float[] w = {1f, 2f, Float.NaN, 4f, 5f, Float.POSITIVE_INFINITY};
        float[] scaler = {1f, 1f, 1f};
        String plain = assertThrows(LayerscopeException.class,
                () -> LayerStatistics.compute("L", w, 2, 3, scaler)).getMessage();
        String device = assertThrows(LayerscopeException.class,
                () -> DeviceLayerStatistics.compute(Device.cpu(), "L", w, 2, 3, scaler, 0.5)).getMessage();
        assertEquals(plain, device);
        assertTrue(device.startsWith("layer L: weight entry [0, 2] is NaN"), device);

        float[] badScaler = {1f, -1f, 1f};
        assertEquals(assertThrows(LayerscopeException.class,
                        () -> LayerStatistics.compute("L", new float[6], 2, 3, badScaler)).getMessage(),
                assertThrows(LayerscopeException.class,
                        () -> DeviceLayerStatistics.compute(Device.cpu(), "L", new float[6], 2, 3, badScaler, 0.5))
                        .getMessage());
        assertEquals("sparsity 1.0 must be between 0 and 1 (exclusive)", assertThrows(IllegalArgumentException.class,
                () -> DeviceLayerStatistics.compute(Device.cpu(), "L", new float[6], 2, 3, scaler, 1.0)).getMessage());
    }

    private static float[] scalerRow(Random r, int in, boolean withZeros) {
        float[] s = new float[in];
        for (int j = 0; j < in; j++) {
            s[j] = withZeros && j % 7 == 2 ? 0f : (float) Math.exp(r.nextGaussian() * 2);
        }
        return s;
    }

    private static void assertSame(int out, int in, float[] w, float[] scaler, double sparsity, long blockEntries) {
        // the last column, the first, and one between: their Wanda-pruned rows as the Java path counts them
        int[] columns = java.util.stream.IntStream.of(in - 1, 0, in / 2).distinct().toArray();
        io.layerscope.stats.LayerByProducts counted = new io.layerscope.stats.LayerByProducts().wandaPrunedRows(columns);
        LayerStats plain = LayerStatistics.compute("L", w, out, in, scaler, sparsity, null, null, counted);
        DeviceLayerStatistics.Result device = DeviceLayerStatistics.compute(Device.cpu(), "L", w, out, in, scaler, sparsity,
                blockEntries, columns);
        assertArrayEquals(counted.wandaPrunedRows(), device.wandaPrunedRows());
        assertEquals(null, DeviceLayerStatistics.compute(Device.cpu(), "L", w, out, in, scaler, sparsity, blockEntries, null)
                .wandaPrunedRows(), "none asked for");
        LayerStats d = device.stats();
        assertEquals(plain.outFeatures(), d.outFeatures());
        assertEquals(plain.inFeatures(), d.inFeatures());
        assertDistribution("weight_abs", plain.weightAbs(), d.weightAbs());
        assertDistribution("act_norm", plain.actNorm(), d.actNorm());
        assertDistribution("wanda", plain.wanda(), d.wanda());
        assertDistribution("ria", plain.ria(), d.ria());
        MaskAgreement p = plain.masks();
        MaskAgreement q = d.masks();
        // counts over the same entries: equal counts give the same doubles
        assertEquals(p, q);
        assertEquals(plain.outliers(), d.outliers());
        assertArrayEquals(plain.topActFeatures(), d.topActFeatures());
        assertArrayEquals(plain.activationNorms(), d.activationNorms());
        assertTrue(device.ops().arrays() > 0);
    }

    private static void assertDistribution(String what, Distribution plain, Distribution device) {
        assertEquals(plain.histogram(), device.histogram(), what + " histogram");
        Summary p = plain.summary();
        Summary d = device.summary();
        assertEquals(p.count(), d.count(), what + " count");
        assertEquals(p.min(), d.min(), 0, what + " min");
        assertEquals(p.max(), d.max(), 0, what + " max");
        assertEquals(p.median(), d.median(), 0, what + " median");
        assertEquals(p.p01(), d.p01(), 0, what + " p01");
        assertEquals(p.p99(), d.p99(), 0, what + " p99");
        assertClose(what + " mean", p.mean(), d.mean());
        assertClose(what + " std", p.std(), d.std());
    }

    private static void assertClose(String what, double expected, double actual) {
        if (Double.isNaN(expected)) {
            assertTrue(Double.isNaN(actual), what);
            return;
        }
        assertEquals(expected, actual, RELATIVE * Math.abs(expected), what);
    }
}
