package io.layerscope.llama;

import io.layerscope.model.DType;
import io.layerscope.model.SyntheticLlama;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** The tiny GQA checkpoints and token windows the llama tests share. */
final class TinyModels {
    static final int VOCAB = 64;

    private TinyModels() {
    }

    /** hidden 32, 4 heads over 2 KV heads of dim 8, 2 layers, llama3 rope scaling, planted outliers. */
    static SyntheticLlama gqa(DType dtype) {
        return SyntheticLlama.builder().hidden(32).intermediate(48).layers(2).heads(4).kvHeads(2).headDim(8)
                .vocab(VOCAB).dtype(dtype).outlierFeatures(3, 17).seed(11).weightStd(0.15);
    }

    static List<int[]> windows(int count, int length, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<int[]> out = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            out.add(rnd.ints(length, 0, VOCAB).toArray());
        }
        return out;
    }
}
