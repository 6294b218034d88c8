package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.layerscope.model.Checkpoint;

/**
 * The weights of one decoder layer on the device, Linear weights as stored: [out, in]. The
 * projections that read the same input are concatenated along the output axis, so each input is
 * multiplied once: q, k and v as {@code qkv} [(heads + 2 kvHeads) * headDim, hidden], gate and up
 * as {@code gateUp} [2 * intermediate, hidden]. Every output element is the same dot product as
 * in the separate matmuls; one larger GEMM packs its input once instead of two or three times.
 */
record BlockWeights(NDArray inputNorm, NDArray qkv, NDArray o, NDArray postNorm, NDArray gateUp, NDArray down) {

    static BlockWeights load(NDManager manager, Checkpoint ckpt, int block, DataType type) {
        String p = "model.layers." + block + ".";
        return new BlockWeights(
                DeviceArrays.weight(manager, ckpt, p + "input_layernorm.weight", type),
                concatenated(manager, ckpt, type, p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                        p + "self_attn.v_proj.weight"),
                DeviceArrays.weight(manager, ckpt, p + "self_attn.o_proj.weight", type),
                DeviceArrays.weight(manager, ckpt, p + "post_attention_layernorm.weight", type),
                concatenated(manager, ckpt, type, p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"),
                DeviceArrays.weight(manager, ckpt, p + "mlp.down_proj.weight", type));
    }

    /** The tensors stacked along axis 0 (their output rows), in {@code manager}; the parts are freed. */
    private static NDArray concatenated(NDManager manager, Checkpoint ckpt, DataType type, String... names) {
        try (NDManager parts = manager.newSubManager()) {
            NDArray out = DeviceArrays.weight(parts, ckpt, names[0], type);
            for (int i = 1; i < names.length; i++) {
                out = out.concat(DeviceArrays.weight(parts, ckpt, names[i], type), 0);
            }
            out.attach(manager);
            return out;
        }
    }
}
