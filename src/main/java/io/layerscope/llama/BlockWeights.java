package io.layerscope.llama;

import ai.djl.ndarray.NDArray;

/**
 * The weights of one decoder layer on the device, Linear weights as stored: [out, in]. The
 * projections that read the same input are concatenated along the output axis, so each input is
 * multiplied once: q, k and v as {@code qkv} [(heads + 2 kvHeads) * headDim, hidden], gate and up
 * as {@code gateUp} [2 * intermediate, hidden]. Every output element is the same dot product as
 * in the separate matmuls; one larger GEMM packs its input once instead of two or three times.
 */
record BlockWeights(NDArray inputNorm, NDArray qkv, NDArray o, NDArray postNorm, NDArray gateUp, NDArray down) {

    /** Block {@code block}'s weights, q/k/v and gate/up read straight into their stacked arrays. */
    static BlockWeights load(WeightReader weights, int block) {
        String[] norms = normNames(block);
        String[][] linear = linearNames(block);
        return new BlockWeights(weights.weight(norms[0]), weights.stacked(linear[0]), weights.stacked(linear[1]),
                weights.weight(norms[1]), weights.stacked(linear[2]), weights.stacked(linear[3]));
    }

    /** Block {@code block}'s input and post-attention norm tensors. */
    static String[] normNames(int block) {
        String p = "model.layers." + block + ".";
        return new String[] {p + "input_layernorm.weight", p + "post_attention_layernorm.weight"};
    }

    /** Block {@code block}'s Linear tensors as stacked here: q/k/v, o, gate/up, down. */
    static String[][] linearNames(int block) {
        String p = "model.layers." + block + ".";
        return new String[][] {
            {p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"},
            {p + "self_attn.o_proj.weight"},
            {p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"},
            {p + "mlp.down_proj.weight"}};
    }
}
