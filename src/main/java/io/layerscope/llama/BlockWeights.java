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
        String p = "model.layers." + block + ".";
        return new BlockWeights(
                weights.weight(p + "input_layernorm.weight"),
                weights.stacked(p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"),
                weights.weight(p + "self_attn.o_proj.weight"),
                weights.weight(p + "post_attention_layernorm.weight"),
                weights.stacked(p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"),
                weights.weight(p + "mlp.down_proj.weight"));
    }
}
