package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.SyntheticLlama;
import io.layerscope.stats.CheckpointWeightRows;
import io.layerscope.stats.WeightRows;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stage two reads a layer up to the size limit whole into its thread's one array (reused for every
 * smaller layer after it), and a larger one from the checkpoint a chunk at a time; either way the
 * statistics see the tensor's rows.
 */
class LayerStageWeightRowsTest {
    @TempDir
    Path tmp;

    @Test
    void layersUpToTheLimitShareOneArrayLargerOnesAreReadInChunks() throws Exception {
        Checkpoint ckpt = Checkpoint.open(SyntheticLlama.builder().hidden(64).intermediate(96).layers(1).heads(4)
                .kvHeads(2).vocab(300).dtype(DType.BF16).seed(3).write(tmp.resolve("m")));
        PrunableLayer lmHead = ckpt.layer("lm_head");           // 300 x 64 = 19200
        PrunableLayer gate = ckpt.layer("model.layers.0.mlp.gate_proj");  // 96 x 64 = 6144
        PrunableLayer k = ckpt.layer("model.layers.0.self_attn.k_proj");  // 32 x 64 = 2048
        long limit = 96 * 64;
        WeightRows[] got = new WeightRows[3];
        Throwable[] failure = new Throwable[1];
        Thread reader = new Thread(() -> {   // a fresh thread: no array left by other tests
            try {
                got[0] = LayerStage.weightRows(ckpt, lmHead, limit);
                got[1] = LayerStage.weightRows(ckpt, gate, limit);
                float[] gateArray = got[1].rows(0, 96).values();
                float[] gateRows = Arrays.copyOf(gateArray, 96 * 64);
                got[2] = LayerStage.weightRows(ckpt, k, limit);
                assertSame(gateArray, got[2].rows(0, 32).values(), "the smaller layer is read into the same array");
                assertArrayEquals(ckpt.readFloats(gate.weightTensor()), gateRows);
                assertArrayEquals(ckpt.readFloats(k.weightTensor()), Arrays.copyOf(got[2].rows(0, 32).values(), 32 * 64));
                WeightRows.Run head = got[0].rows(100, 103);
                assertArrayEquals(Arrays.copyOfRange(ckpt.readFloats(lmHead.weightTensor()), 100 * 64, 103 * 64),
                        Arrays.copyOfRange(head.values(), head.offset(), head.offset() + 3 * 64));
            } catch (Throwable t) {
                failure[0] = t;
            }
        });
        reader.start();
        reader.join();
        if (failure[0] != null) {
            throw new AssertionError(failure[0]);
        }
        assertInstanceOf(CheckpointWeightRows.class, got[0], "above the limit: chunks");
        assertFalse(got[1] instanceof CheckpointWeightRows, "at the limit: whole");
    }
}
