package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.layerscope.model.Checkpoint;

/** The weights of one decoder layer on the device, Linear weights as stored: [out, in]. */
record BlockWeights(NDArray inputNorm, NDArray q, NDArray k, NDArray v, NDArray o,
                    NDArray postNorm, NDArray gate, NDArray up, NDArray down) {

    static BlockWeights load(NDManager manager, Checkpoint ckpt, int block, DataType type) {
        String p = "model.layers." + block + ".";
        return new BlockWeights(
                DeviceArrays.weight(manager, ckpt, p + "input_layernorm.weight", type),
                DeviceArrays.weight(manager, ckpt, p + "self_attn.q_proj.weight", type),
                DeviceArrays.weight(manager, ckpt, p + "self_attn.k_proj.weight", type),
                DeviceArrays.weight(manager, ckpt, p + "self_attn.v_proj.weight", type),
                DeviceArrays.weight(manager, ckpt, p + "self_attn.o_proj.weight", type),
                DeviceArrays.weight(manager, ckpt, p + "post_attention_layernorm.weight", type),
                DeviceArrays.weight(manager, ckpt, p + "mlp.gate_proj.weight", type),
                DeviceArrays.weight(manager, ckpt, p + "mlp.up_proj.weight", type),
                DeviceArrays.weight(manager, ckpt, p + "mlp.down_proj.weight", type));
    }
}
