package io.layerscope.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.llama.LlamaModel;
import io.layerscope.llama.TapSums;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.SyntheticLlama;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Forwarding shards on several threads gives the sums of one forward over all windows. */
class ForwardThroughputTest {
    @TempDir
    Path tmp;

    @Test
    void shardsOnTwoThreadsSumLikeOneForward() {
        Checkpoint ckpt = Checkpoint.open(SyntheticLlama.builder().hidden(32).intermediate(64).layers(2).heads(4).kvHeads(2)
                .vocab(97).dtype(DType.F32).write(tmp.resolve("m")));
        SplittableRandom rnd = new SplittableRandom(3);
        List<int[]> windows = IntStream.range(0, 5).mapToObj(i -> rnd.ints(9, 0, 97).toArray()).toList();
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
            TapSums one = model.forward(windows, 1);
            TapSums two = ForwardThroughput.forward(model, windows, 1, 2);
            assertEquals(5, two.nsamples());
            assertEquals(45, two.ntokens());
            assertEquals(one.keys(), two.keys());
            for (String key : one.keys()) {
                float[] a = one.sumSq().get(key);
                float[] b = two.sumSq().get(key);
                for (int j = 0; j < a.length; j++) {
                    assertEquals(a[j], b[j], 1e-5 * Math.max(1, Math.abs(a[j])), key + "[" + j + "]");
                }
            }
        }
    }
}
