package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.SyntheticLlama;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A layer's weight read from the checkpoint a chunk of rows at a time gives the rows of the whole
 * tensor read at once, and the statistics over it are those over the whole array, bit for bit
 * (by-products and output errors included), whatever the chunks and threads.
 */
class CheckpointWeightRowsTest {
    @TempDir
    Path tmp;

    private Checkpoint model(DType dtype) {
        return Checkpoint.open(SyntheticLlama.builder().hidden(64).intermediate(96).layers(2).heads(4).kvHeads(2)
                .vocab(200).dtype(dtype).seed(7).write(tmp.resolve(dtype.name())));
    }

    @Test
    void rowsAreTheWholeTensorsRowsForEveryDtype() {
        for (DType dtype : new DType[] {DType.BF16, DType.F16, DType.F32}) {
            Checkpoint ckpt = model(dtype);
            for (PrunableLayer layer : ckpt.prunableLayers()) {
                float[] whole = ckpt.readFloats(layer.weightTensor());
                int in = layer.inFeatures();
                WeightRows rows = new CheckpointWeightRows(ckpt, layer.weightTensor(), layer.outFeatures(), in);
                for (int[] range : new int[][] {{0, 1}, {3, 10}, {layer.outFeatures() - 2, layer.outFeatures()},
                        {0, layer.outFeatures()}}) {
                    WeightRows.Run run = rows.rows(range[0], range[1]);
                    int n = (range[1] - range[0]) * in;
                    assertArrayEquals(Arrays.copyOfRange(whole, range[0] * in, range[0] * in + n),
                            Arrays.copyOfRange(run.values(), run.offset(), run.offset() + n),
                            dtype + " " + layer.name() + " rows " + Arrays.toString(range));
                }
            }
        }
    }

    @Test
    void statisticsOverChunkReadsEqualThoseOverTheWholeArray() {
        Checkpoint ckpt = model(DType.BF16);
        SplittableRandom random = new SplittableRandom(11);
        ForkJoinPool pool = new ForkJoinPool(3);
        try {
            for (PrunableLayer layer : ckpt.prunableLayers()) {
                int out = layer.outFeatures();
                int in = layer.inFeatures();
                float[] w = ckpt.readFloats(layer.weightTensor());
                float[] scalerRow = new float[in];
                for (int j = 0; j < in; j++) {
                    scalerRow[j] = (float) Math.exp(2 * random.nextGaussian());
                }
                double[] g = gram(in, random);
                float[] thresholds = {1e-4f, 1e-3f, 1e-2f};
                // one chunk; chunks of 7 rows on the calling thread (with and without output errors); on a pool
                Object[][] runs = {{null, out, null}, {null, 7, null}, {null, 7, GramProducts.of(g)}, {pool, 7, null}};
                for (Object[] run : runs) {
                    ForkJoinPool threads = (ForkJoinPool) run[0];
                    int rowsPerChunk = (Integer) run[1];
                    GramProducts products = (GramProducts) run[2];
                    LayerByProducts expectedExtra = new LayerByProducts().wandaAbove(thresholds).blockMaxima(5, 3);
                    LayerByProducts actualExtra = new LayerByProducts().wandaAbove(thresholds).blockMaxima(5, 3);
                    LayerStats expected = LayerStatistics.compute(layer.name(), w, out, in, scalerRow, 0.4,
                            threads, rowsPerChunk, products, expectedExtra);
                    LayerStats actual = LayerStatistics.compute(layer.name(),
                            new CheckpointWeightRows(ckpt, layer.weightTensor(), out, in), scalerRow, 0.4,
                            threads, rowsPerChunk, products, actualExtra);
                    String what = layer.name() + " chunk " + rowsPerChunk + (threads == null ? "" : " pool")
                            + (products == null ? "" : " gram");
                    assertEquals(expected, actual, what);
                    assertArrayEquals(expectedExtra.wandaAboveCounts(), actualExtra.wandaAboveCounts(), what);
                    assertArrayEquals(expectedExtra.absMaxima(), actualExtra.absMaxima(), what);
                    assertArrayEquals(expectedExtra.wandaMaxima(), actualExtra.wandaMaxima(), what);
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    /** A symmetric positive semi-definite G = A^T A. */
    private static double[] gram(int in, SplittableRandom random) {
        int k = 5;
        double[] a = new double[k * in];
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextGaussian();
        }
        double[] g = new double[in * in];
        for (int r = 0; r < in; r++) {
            for (int c = 0; c < in; c++) {
                double s = 0;
                for (int t = 0; t < k; t++) {
                    s += a[t * in + r] * a[t * in + c];
                }
                g[r * in + c] = s;
            }
        }
        return g;
    }

    @Test
    void aNonFiniteWeightIsNamedByItsPlaceInTheLayer() {
        Path dir = SyntheticLlama.builder().hidden(64).intermediate(96).layers(1).heads(4).kvHeads(2).vocab(200)
                .dtype(DType.BF16).plant("model.layers.0.mlp.down_proj.weight", 37, 81, 96, Float.POSITIVE_INFINITY)
                .write(tmp.resolve("inf"));
        Checkpoint ckpt = Checkpoint.open(dir);
        PrunableLayer down = ckpt.layer("model.layers.0.mlp.down_proj");
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> LayerStatistics.compute(down.name(),
                new CheckpointWeightRows(ckpt, down.weightTensor(), 64, 96), new float[96], 0.5, null, 6, null, null));
        assertEquals("layer model.layers.0.mlp.down_proj: weight entry [37, 81] is Infinity; statistics of a non-finite"
                + " weight are meaningless. The checkpoint file is damaged or was saved from a diverged model: download"
                + " it again or check its source.", e.getMessage());
    }

    @Test
    void aTensorOfAnotherShapeIsRefused() {
        Checkpoint ckpt = model(DType.BF16);
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> new CheckpointWeightRows(ckpt, "model.layers.0.mlp.down_proj.weight", 96, 64));
        assertEquals("layer weight model.layers.0.mlp.down_proj.weight is BF16 of [64, 96] but the layer needs floating"
                + " [96, 64]. Check that the tensor read matches the layer's shape in the checkpoint.", e.getMessage());
        WeightRows rows = new CheckpointWeightRows(ckpt, "model.layers.0.mlp.down_proj.weight", 64, 96);
        IndexOutOfBoundsException bad = assertThrows(IndexOutOfBoundsException.class, () -> rows.rows(60, 65));
        assertEquals("rows [60, 65) of 64", bad.getMessage());
    }
}
