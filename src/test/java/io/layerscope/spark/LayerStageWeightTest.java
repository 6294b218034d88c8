package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.SyntheticLlama;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A task thread reads a weight into its last array of the same size, and every value is the layer's own. */
class LayerStageWeightTest {
    @TempDir
    Path dir;

    @Test
    void equalSizesShareTheThreadsArrayAndEveryReadIsTheLayersWeight() {
        Checkpoint ckpt = Checkpoint.open(SyntheticLlama.builder().hidden(32).intermediate(48).layers(2).heads(4)
                .kvHeads(2).headDim(8).vocab(64).write(dir));
        PrunableLayer q0 = ckpt.layer("model.layers.0.self_attn.q_proj");
        PrunableLayer q1 = ckpt.layer("model.layers.1.self_attn.q_proj");
        PrunableLayer k1 = ckpt.layer("model.layers.1.self_attn.k_proj");
        float[] first = LayerStage.readWeight(ckpt, q0);
        assertArrayEquals(ckpt.readFloats(q0.weightTensor()), first);
        float[] second = LayerStage.readWeight(ckpt, q1);
        assertSame(first, second, "same size: the thread's array is read into again");
        assertArrayEquals(ckpt.readFloats(q1.weightTensor()), second);
        float[] third = LayerStage.readWeight(ckpt, k1);
        assertNotSame(second, third, "another size: a new array");
        assertEquals((long) k1.outFeatures() * k1.inFeatures(), third.length);
        assertArrayEquals(ckpt.readFloats(k1.weightTensor()), third);
    }
}
