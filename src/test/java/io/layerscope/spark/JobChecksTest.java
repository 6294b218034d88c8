package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DemoModel;
import io.layerscope.model.PrunableLayer;
import io.layerscope.prune.Allocation;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.SparsityPattern;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobChecksTest {
    @TempDir
    Path tmp;

    /**
     * The demo model's attention layers read 128 inputs and its down_proj 344: --prune-m 16 divides
     * the first only. A dense run without --save-pruned builds N:M masks for the layers it analyses
     * alone; a run that prunes (sequential mode, --save-pruned) builds them for every block.
     */
    @Test
    void nOfMIsCheckedOnTheLayersTheRunMasks() {
        Checkpoint ckpt = Checkpoint.open(DemoModel.ensure(tmp));
        JobOptions.Analysis a = new JobOptions.Analysis("q_proj", false, 0.5, PruneMode.DENSE, new SparsityPattern(8, 16),
                Allocation.uniform(), 0.25, 0.06, false, 0);
        List<PrunableLayer> qProj = ckpt.prunableLayers().stream().filter(l -> l.name().endsWith("q_proj")).toList();
        int last = ckpt.config().numHiddenLayers() - 1;
        assertDoesNotThrow(() -> JobChecks.pruning(a, ckpt, last, qProj, false));
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> JobChecks.pruning(a, ckpt, last, qProj, true));
        assertEquals("--prune-m 16 does not divide the in_features 344 of model.layers.0.mlp.down_proj; N:M masks need"
                + " whole groups of M input columns (use an M that divides 344)", e.getMessage());
        List<PrunableLayer> all = ckpt.prunableLayers();
        assertThrows(LayerscopeException.class, () -> JobChecks.pruning(a, ckpt, last, all, false));
    }

    /** Sequential mode's batch of hidden states is one Java array: a batch larger than 2 GiB is refused at once. */
    @Test
    void aSequentialBatchLargerThanAJavaArrayIsRefused() throws Exception {
        io.layerscope.model.LlamaConfig c = io.layerscope.model.LlamaConfig.parse(new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(io.layerscope.fixtures.Llama1bShapedCheckpoint.CONFIG_JSON), "1b");
        // 2048 tokens of 2048 float32 values: 16 MiB a sequence, so 127 fit under 2^31 - 8 bytes and 128 do not
        assertDoesNotThrow(() -> JobChecks.sequentialBatch(calibration(2048, 127, io.layerscope.llama.ComputeDtype.AUTO), c, true, true));
        assertDoesNotThrow(() -> JobChecks.sequentialBatch(calibration(2048, 128, io.layerscope.llama.ComputeDtype.AUTO), c, false, true));
        assertEquals("--batch-size 128 with --mode sequential: a batch's hidden states (128 x 2048 tokens x 2048 x 4 bytes"
                + " = 2.00 GiB) exceed the largest Java array (2 GiB less 9 bytes), in which the rounds keep them; use"
                + " --batch-size 127 or less",
                assertThrows(LayerscopeException.class, () -> JobChecks.sequentialBatch(calibration(2048, 128,
                        io.layerscope.llama.ComputeDtype.AUTO), c, true, true)).getMessage());
        assertDoesNotThrow(() -> JobChecks.sequentialBatch(calibration(2048, 255, io.layerscope.llama.ComputeDtype.FLOAT16), c, true, true));
        // auto on executors that may be GPUs: float16 states, half the size
        assertDoesNotThrow(() -> JobChecks.sequentialBatch(calibration(2048, 255, io.layerscope.llama.ComputeDtype.AUTO), c, true, false));
        assertThrows(LayerscopeException.class, () -> JobChecks.sequentialBatch(calibration(2048, 128,
                io.layerscope.llama.ComputeDtype.FLOAT32), c, true, false));
        assertEquals("--batch-size 1 with --mode sequential: a batch's hidden states (1 x 300000 tokens x 2048 x 4 bytes"
                + " = 2.29 GiB) exceed the largest Java array (2 GiB less 9 bytes), in which the rounds keep them; even one"
                + " sequence does not: use a smaller --seqlen", assertThrows(LayerscopeException.class,
                        () -> JobChecks.sequentialBatch(calibration(300_000, 1, io.layerscope.llama.ComputeDtype.FLOAT32), c,
                                true, true)).getMessage());
    }

    private static JobOptions.Calibration calibration(int seqlen, int batchSize, io.layerscope.llama.ComputeDtype dtype) {
        return new JobOptions.Calibration("demo", 128, seqlen, 0, dtype, 0, batchSize);
    }

    /** An output inside an earlier run's results or pruned checkpoint would go with the next --overwrite of it. */
    @Test
    void outputsInsideAnotherRunsOutputsAreRefused() throws Exception {
        Path results = java.nio.file.Files.createDirectories(tmp.resolve("results/run1/layers.parquet")).getParent();
        java.nio.file.Files.writeString(results.resolve("run.json"), "{}");
        Path pruned = java.nio.file.Files.createDirectories(tmp.resolve("pruned"));
        java.nio.file.Files.writeString(pruned.resolve("layerscope-pruned.json"), "{}");
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> JobChecks.refuseNestedOutputs(tmp.resolve("out"), results.resolve("model/pruned"), null));
        assertEquals("--save-pruned " + results.resolve("model/pruned") + " is inside " + results + ", the results of"
                + " another run, which --overwrite replaces as a whole; give --save-pruned a place of its own", e.getMessage());
        e = assertThrows(LayerscopeException.class,
                () -> JobChecks.refuseNestedOutputs(pruned.resolve("results"), null, null));
        assertEquals("--out " + pruned.resolve("results") + " is inside " + pruned + ", a pruned checkpoint of another"
                + " run, which --overwrite replaces as a whole; give --out a place of its own", e.getMessage());
        e = assertThrows(LayerscopeException.class,
                () -> JobChecks.refuseNestedOutputs(tmp.resolve("out"), null, results.resolve("imatrix.dat")));
        assertEquals("--imatrix " + results.resolve("imatrix.dat") + " is inside " + results + ", the results of another"
                + " run, which --overwrite replaces as a whole; give --imatrix a place of its own", e.getMessage());
        // beside them, or replacing them whole, is fine
        assertDoesNotThrow(() -> JobChecks.refuseNestedOutputs(results, tmp.resolve("results/run2"), tmp.resolve("i.dat")));
    }
}
