package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import io.layerscope.model.LlamaConfig;
import io.layerscope.model.Tap;

/**
 * One LLaMA decoder layer as Hugging Face's eager {@code LlamaDecoderLayer} computes it
 * (REFERENCE.md section 2), reporting the inputs of its seven Linear layers as four taps.
 *
 * <p>Every result is derived from the hidden state first, so it lands in the hidden state's
 * NDManager (the caller's per-block scope) and never in the model's long-lived one.
 */
final class DecoderBlock {
    private final int index;
    private final BlockWeights w;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final double eps;
    private final double scaling;

    DecoderBlock(int index, BlockWeights weights, LlamaConfig config) {
        this.index = index;
        this.w = weights;
        this.heads = config.numAttentionHeads();
        this.kvHeads = config.numKeyValueHeads();
        this.headDim = config.headDim();
        this.eps = config.rmsNormEps();
        this.scaling = Math.pow(headDim, -0.5);
    }

    /** h [B, T, hidden] in the compute type -> the layer's output, same shape and manager. */
    NDArray forward(NDArray h, PositionTables.Tables pos, TapSink taps) {
        NDArray x = rmsNorm(h, w.inputNorm(), eps);
        tap(taps, Tap.ATTN_IN, x);
        NDArray attn = attention(x, pos);
        tap(taps, Tap.ATTN_OUT, attn);
        h = h.add(linear(attn, w.o()));

        x = rmsNorm(h, w.postNorm(), eps);
        tap(taps, Tap.MLP_IN, x);
        NDArray gate = linear(x, w.gate());
        NDArray act = Activation.sigmoid(gate).mul(gate).mul(linear(x, w.up()));
        tap(taps, Tap.MLP_ACT, act);
        return h.add(linear(act, w.down()));
    }

    private void tap(TapSink taps, Tap tap, NDArray x) {
        String key = tap.key(index);
        if (taps.wants(key)) {
            taps.accept(key, x);
        }
    }

    /** Causal grouped-query attention over x [B, T, hidden]; returns [B, T, heads * headDim] before o_proj. */
    private NDArray attention(NDArray x, PositionTables.Tables pos) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        int rep = heads / kvHeads;
        NDArray q = rotate(linear(x, w.q()).reshape(b, t, heads, headDim).transpose(0, 2, 1, 3), pos);
        NDArray k = rotate(linear(x, w.k()).reshape(b, t, kvHeads, headDim).transpose(0, 2, 1, 3), pos);
        NDArray v = linear(x, w.v()).reshape(b, t, kvHeads, headDim).transpose(0, 2, 1, 3);
        // GQA without copying K/V: query head j = g * rep + r reads KV head g = j / rep (HF's
        // repeat_kv), so the rep query heads of group g are stacked along the row axis of one matmul.
        NDArray scores = q.reshape(b, kvHeads, rep * t, headDim)
                .matMul(k.transpose(0, 1, 3, 2))
                .mul(scaling)
                .reshape(b, kvHeads, rep, t, t)
                .add(pos.mask());
        DataType type = x.getDataType();
        NDArray probs = DeviceArrays.cast(DeviceArrays.cast(scores, DataType.FLOAT32).softmax(4), type);
        return probs.reshape(b, kvHeads, rep * t, t)
                .matMul(v)
                .reshape(b, heads, t, headDim)
                .transpose(0, 2, 1, 3)
                .reshape(b, t, (long) heads * headDim);
    }

    /** x*cos + rotate_half(x)*sin with rotate_half(x) = cat(-x[d/2:], x[:d/2]); x is [B, n, T, d]. */
    private static NDArray rotate(NDArray x, PositionTables.Tables pos) {
        NDList halves = x.split(2, 3);
        NDArray rotated = halves.get(1).neg().concat(halves.get(0), 3);
        return x.mul(pos.cos()).add(rotated.mul(pos.sin()));
    }

    /** In float32: x * rsqrt(mean(x^2) + eps), cast back to x's type, then times the weight (as HF). */
    static NDArray rmsNorm(NDArray h, NDArray weight, double eps) {
        NDArray x = DeviceArrays.cast(h, DataType.FLOAT32);
        int last = h.getShape().dimension() - 1;
        NDArray variance = x.square().mean(new int[] {last}, true);
        NDArray normed = x.div(variance.add(eps).sqrt());
        return DeviceArrays.cast(normed, h.getDataType()).mul(weight);
    }

    private static NDArray linear(NDArray x, NDArray weight) {
        return Linear.linear(x, weight).singletonOrThrow();
    }
}
