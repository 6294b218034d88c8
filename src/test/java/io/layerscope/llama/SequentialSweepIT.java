package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.calibration.CalibrationSample;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DemoModel;
import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.SafetensorsFile;
import io.layerscope.model.TensorInfo;
import io.layerscope.prune.Allocation;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.PrunedCheckpointWriter;
import io.layerscope.prune.SparsityPattern;
import io.layerscope.results.LayerResult;
import io.layerscope.spark.JobOptions;
import io.layerscope.spark.SweepJob;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sequential sweep (Wanda's prune_wanda on Spark) on the demo model against
 * {@link SequentialReference}, a plain-Java prune_wanda: the same scaler_rows, the same masks in the
 * pruned checkpoint, every other byte of it the source's, and the same results for 1, 2 and 3 shards.
 */
class SequentialSweepIT {
    static final int NSAMPLES = 8;
    static final int SEQLEN = 64;

    @TempDir
    static Path tmp;
    static Path cache;
    static Path modelDir;
    static SweepJob.Outcome twoShards;
    static List<int[]> windows;

    @BeforeAll
    static void sweepSequentially() {
        cache = tmp.resolve("cache");
        modelDir = DemoModel.ensure(cache);
        twoShards = run(2, SparsityPattern.UNSTRUCTURED, tmp.resolve("pruned"), tmp.resolve("results"));
        windows = twoShards.samples().stream().map(CalibrationSample::tokens).toList();
    }

    static SweepJob.Outcome run(int shards, SparsityPattern pattern, Path savePruned, Path out) {
        JobOptions o = new JobOptions("sweep",
                new JobOptions.Model("demo", null, null, null, modelDir, cache, Map.of("HF_HUB_OFFLINE", "1")),
                new JobOptions.Calibration("demo", NSAMPLES, SEQLEN, 0, ComputeDtype.FLOAT32, shards, 1),
                new JobOptions.Analysis(null, false, 0.5, PruneMode.SEQUENTIAL, pattern, Allocation.uniform()),
                new JobOptions.Output(out, out == null ? tmp.resolve("png") : null, false, null, savePruned, null));
        return new SweepJob(o, new PrintStream(new ByteArrayOutputStream())).run();
    }

    @Test
    void scalerRowsAreWhatPruneWandaComputes() {
        SequentialReference.Result ref = SequentialReference.run(Checkpoint.open(modelDir), windows, 0.5, 0, 0);
        for (LayerResult r : twoShards.layers()) {
            float[] expected = ref.scalerRows().get(r.layer().tapKey());
            float[] actual = r.scalerRow();
            for (int j = 0; j < expected.length; j++) {
                assertEquals(expected[j], actual[j], 1e-5 * Math.abs(expected[j]) + 1e-12,
                        r.layer().name() + " scaler_row[" + j + "]");
            }
            assertTrue(r.drift() != null && r.drift().denseScalerRow().length == expected.length, r.layer().name());
        }
    }

    @Test
    void thePrunedCheckpointHoldsTheReferenceMasksAndOtherwiseTheSourceBytes() throws Exception {
        SequentialReference.Result ref = SequentialReference.run(Checkpoint.open(modelDir), windows, 0.5, 0, 0);
        assertPrunedAs(ref, tmp.resolve("pruned"), in -> in / 2);
    }

    @Test
    void nOfMMasksFollowTheRuleInEveryGroup() throws Exception {
        Path pruned = tmp.resolve("pruned-2of4");
        run(3, new SparsityPattern(2, 4), pruned, null);
        SequentialReference.Result ref = SequentialReference.run(Checkpoint.open(modelDir), windows, 0.5, 2, 4);
        assertPrunedAs(ref, pruned, in -> in / 2);
        Checkpoint p = Checkpoint.open(pruned);
        Checkpoint source = Checkpoint.open(modelDir);
        for (PrunableLayer l : p.prunableLayers()) {
            if (l.kind() == LayerKind.LM_HEAD) {
                continue;
            }
            float[] w = p.readFloats(l.weightTensor());
            float[] s = source.readFloats(l.weightTensor());
            for (int i = 0; i < l.outFeatures(); i++) {
                for (int g = 0; g < l.inFeatures(); g += 4) {
                    int zeros = 0;
                    int sourceZeros = 0;
                    for (int j = g; j < g + 4; j++) {
                        zeros += w[i * l.inFeatures() + j] == 0 ? 1 : 0;
                        sourceZeros += s[i * l.inFeatures() + j] == 0 ? 1 : 0;
                    }
                    if (sourceZeros == 0) {
                        assertEquals(2, zeros, l.name() + " row " + i + " group " + g);
                    }
                }
            }
        }
    }

    @Test
    void oneTwoAndThreeShardsGiveTheSameBits() {
        SweepJob.Outcome one = run(1, SparsityPattern.UNSTRUCTURED, null, tmp.resolve("one"));
        SweepJob.Outcome three = run(3, SparsityPattern.UNSTRUCTURED, null, tmp.resolve("three"));
        for (SweepJob.Outcome other : List.of(one, three)) {
            assertEquals(twoShards.layers().size(), other.layers().size());
            for (int i = 0; i < other.layers().size(); i++) {
                LayerResult a = twoShards.layers().get(i);
                LayerResult b = other.layers().get(i);
                assertArrayEquals(a.scalerRow(), b.scalerRow(), a.layer().name());
                assertEquals(a.stats(), b.stats(), a.layer().name());
                assertEquals(a.drift().maskAgreement(), b.drift().maskAgreement(), a.layer().name());
                assertEquals(a.drift().sparsityActual(), b.drift().sparsityActual(), a.layer().name());
            }
            assertEquals(twoShards.blocks(), other.blocks());
        }
    }

    @Test
    void lmHeadIsAnalysedButNotPruned() {
        LayerResult head = twoShards.layers().get(twoShards.layers().size() - 1);
        assertEquals(LayerKind.LM_HEAD, head.layer().kind());
        assertNull(head.drift().sparsityTarget());
        assertNull(head.drift().sparsityActual());
        for (LayerResult r : twoShards.layers()) {
            if (r.layer().block() == 0) {
                // block 0 sees the unpruned embeddings: the dense view, up to float addition order
                assertEquals(1.0, r.drift().actNormCos(), 1e-9, r.layer().name());
            }
        }
    }

    @Test
    void aDenseSweepReadsThePrunedCheckpoint() {
        // named relative to the working directory, as a user types it: the index's shards are absolute paths
        Path pruned = Path.of("").toAbsolutePath().relativize(tmp.resolve("pruned").toAbsolutePath());
        Checkpoint p = Checkpoint.open(pruned);
        assertEquals(Checkpoint.open(modelDir).prunableLayers(), p.prunableLayers());
        JobOptions o = new JobOptions("sweep",
                new JobOptions.Model(pruned.toString(), null, null, null, pruned, cache, Map.of("HF_HUB_OFFLINE", "1")),
                new JobOptions.Calibration("demo", 2, SEQLEN, 0, ComputeDtype.FLOAT32, 1, 1),
                JobOptions.Analysis.dense("down_proj", false, 0.5),
                new JobOptions.Output(tmp.resolve("dense-of-pruned"), null, false, null));
        SweepJob.Outcome dense = new SweepJob(o, new PrintStream(new ByteArrayOutputStream())).run();
        assertEquals(5, io.layerscope.spark.RunRecord.read(tmp.resolve("dense-of-pruned")).model().files().size());
        for (LayerResult r : dense.layers()) {
            // half of every row is zero now: the lower median of |W| is 0
            assertEquals(0.0, r.stats().weightAbs().summary().median(), r.layer().name());
        }
    }

    interface PerRow {
        int zeros(int in);
    }

    /** Every masked entry zero and every other byte of every tensor the source's; per row {@code perRow} zeros where the source had none. */
    private static void assertPrunedAs(SequentialReference.Result ref, Path pruned, PerRow perRow) throws Exception {
        Checkpoint source = Checkpoint.open(modelDir);
        Checkpoint p = Checkpoint.open(pruned);
        assertTrue(Files.isRegularFile(pruned.resolve(PrunedCheckpointWriter.MARKER)));
        assertTrue(Files.isRegularFile(pruned.resolve("tokenizer.json")));
        assertArrayEquals(Files.readAllBytes(modelDir.resolve("config.json")), Files.readAllBytes(pruned.resolve("config.json")));
        int tensors = 0;
        for (SafetensorsFile f : source.files()) {
            for (TensorInfo t : f.tensors().values()) {
                tensors++;
                TensorInfo copy = p.tensor(t.name());
                assertEquals(t.dtype(), copy.dtype(), t.name());
                assertArrayEquals(t.shape(), copy.shape(), t.name());
                ByteBuffer a = f.map(t.name());
                ByteBuffer b = p.fileOf(t.name()).map(t.name());
                PrunableLayer layer = source.prunableLayers().stream()
                        .filter(l -> l.weightTensor().equals(t.name()) && l.kind() != LayerKind.LM_HEAD).findFirst().orElse(null);
                int size = t.dtype().bytes();
                boolean[][] mask = layer == null ? null : ref.masks().get(layer.name());
                for (int k = 0; k < t.numel(); k++) {
                    boolean masked = mask != null && mask[k / layer.inFeatures()][k % layer.inFeatures()];
                    for (int byteIndex = 0; byteIndex < size; byteIndex++) {
                        byte expected = masked ? 0 : a.get(k * size + byteIndex);
                        assertEquals(expected, b.get(k * size + byteIndex), t.name() + " entry " + k);
                    }
                }
                if (mask != null) {
                    float[] s = source.readFloats(t.name());
                    float[] w = p.readFloats(t.name());
                    for (int i = 0; i < layer.outFeatures(); i++) {
                        int count = 0;
                        boolean sourceZero = false;
                        for (int j = 0; j < layer.inFeatures(); j++) {
                            count += w[i * layer.inFeatures() + j] == 0 ? 1 : 0;
                            sourceZero |= s[i * layer.inFeatures() + j] == 0;
                        }
                        if (!sourceZero) {
                            assertEquals(perRow.zeros(layer.inFeatures()), count, layer.name() + " row " + i);
                        }
                    }
                }
            }
        }
        assertEquals(tensors, p.files().stream().mapToInt(f -> f.tensors().size()).sum());
    }
}
