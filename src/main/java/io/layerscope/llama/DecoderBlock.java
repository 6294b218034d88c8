package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import io.layerscope.model.LlamaConfig;
import io.layerscope.model.Tap;
import java.util.function.UnaryOperator;

/**
 * One LLaMA decoder layer as Hugging Face's eager {@code LlamaDecoderLayer} computes it
 * (docs/METRICS.md, forward pass), reporting the inputs of its seven Linear layers as four taps.
 *
 * <p>Every result is derived from the hidden state first, so it lands in the hidden state's
 * NDManager (the caller's per-block scope) and never in the model's long-lived one.
 *
 * <p>Written for few passes over memory (profiling showed a third of the CPU time outside the
 * matmuls): q/k/v and gate/up are one matmul each (see {@link BlockWeights}); the attention scale
 * 1/sqrt(head_dim) is folded into the query's rotary tables instead of scaling the T x T scores
 * (exact for the power-of-two scales of head_dim 16, 64 or 256; otherwise within float rounding);
 * rotate_half's sign lives in the sine table; results that are fresh arrays are updated in place.
 */
final class DecoderBlock {
    private final int index;
    private final BlockWeights w;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final double eps;

    DecoderBlock(int index, BlockWeights weights, LlamaConfig config) {
        this.index = index;
        this.w = weights;
        this.heads = config.numAttentionHeads();
        this.kvHeads = config.numKeyValueHeads();
        this.headDim = config.headDim();
        this.eps = config.rmsNormEps();
    }

    BlockWeights weights() {
        return w;
    }

    int index() {
        return index;
    }

    /** The same layer with other weights (the pruned ones). */
    DecoderBlock with(BlockWeights weights, LlamaConfig config) {
        return new DecoderBlock(index, weights, config);
    }

    /**
     * h [B, T, hidden] in the compute type -> the layer's output, same shape and manager. Each half
     * (attention, MLP) runs in a scope of its own, so the attention's intermediates (a few hundred MiB
     * at 2048-token windows and 8B's shape) are freed before the MLP's are made; the sinks consume
     * what they are given before it returns.
     */
    NDArray forward(NDArray h, PositionTables.Tables pos, TapSink taps) {
        NDArray mid = scoped(h, in -> {
            NDArray x = rmsNorm(in, w.inputNorm(), eps);
            tap(taps, Tap.ATTN_IN, x);
            NDArray attn = attention(x, pos);
            tap(taps, Tap.ATTN_OUT, attn);
            return linear(attn, w.o()).addi(in);
        });
        return scoped(mid, in -> {
            NDArray x = rmsNorm(in, w.postNorm(), eps);
            tap(taps, Tap.MLP_IN, x);
            NDList gateUp = linear(x, w.gateUp()).split(2, 2);
            NDArray gate = gateUp.get(0);
            NDArray act = Activation.sigmoid(gate).muli(gate).muli(gateUp.get(1));
            tap(taps, Tap.MLP_ACT, act);
            NDArray down = linear(act, w.down());
            taps.downProj(index, act, down);
            return down.addi(in);
        });
    }

    /**
     * {@code part} of in, in a scope closed after it: results derived from {@code in} land in the
     * scope, and only the one returned (a new array) is moved to in's manager.
     */
    private static NDArray scoped(NDArray in, UnaryOperator<NDArray> part) {
        NDManager outer = in.getManager();
        try (NDManager scope = outer.newSubManager()) {
            in.tempAttach(scope);
            NDArray out = part.apply(in);
            out.attach(outer);
            return out;
        }
    }

    private void tap(TapSink taps, Tap tap, NDArray x) {
        String key = tap.key(index);
        if (taps.wants(key)) {
            taps.accept(key, x);
        }
    }

    /**
     * Causal grouped-query attention over x [B, T, hidden]; returns [B, T, heads * headDim] before o_proj.
     *
     * <p>One KV group of one sequence at a time, each group's scores and probabilities freed before
     * the next: all at once they are B x heads x T x T floats, twice (scores and softmax), which at
     * Wanda's 2048-token windows is 1 GiB per sequence for 32 heads, where a group's are 128 MiB. The
     * products are those of the batched matmul, item by item (libtorch multiplies a batch one item
     * at a time on the CPU), and softmax is per row, so the results are the same bits.
     */
    private NDArray attention(NDArray x, PositionTables.Tables pos) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        int rep = heads / kvHeads;
        long qWidth = (long) heads * headDim;
        long kvWidth = (long) kvHeads * headDim;
        NDList qkv = linear(x, w.qkv()).split(new long[] {qWidth, qWidth + kvWidth}, 2);
        NDArray q = rotate(qkv.get(0).reshape(b, t, heads, headDim).transpose(0, 2, 1, 3), pos.queryCos(), pos.querySin());
        NDArray k = rotate(qkv.get(1).reshape(b, t, kvHeads, headDim).transpose(0, 2, 1, 3), pos.cos(), pos.sin());
        // GQA without copying K/V: query head j = g * rep + r reads KV head g = j / rep (HF's
        // repeat_kv), so the rep query heads of group g are stacked along the row axis of one matmul.
        // The queries are already scaled by 1/sqrt(head_dim) (PositionTables).
        NDArray groupedQ = q.reshape(b * kvHeads, (long) rep * t, headDim);
        NDArray keysT = k.reshape(b * kvHeads, t, headDim).transpose(0, 2, 1);
        NDArray values = qkv.get(2).reshape(b, t, kvHeads, headDim).transpose(0, 2, 1, 3).reshape(b * kvHeads, t, headDim);
        DataType type = x.getDataType();
        if (type == DataType.FLOAT16 && !x.getDevice().isGpu()) {
            // libtorch's CPU half-precision matmul takes a naive path, hundreds of times slower, on an
            // operand strided as these views are with one sequence per batch (float32 goes to BLAS,
            // which reads them as they are). Flattening a view copies it in its logical order (a clone
            // would keep the strides).
            keysT = keysT.reshape(-1).reshape(keysT.getShape());
            values = values.reshape(-1).reshape(values.getShape());
        }
        NDList groups = new NDList((int) (b * kvHeads));
        for (long n = 0; n < b * kvHeads; n++) {
            NDArray keys = keysT.get(n);
            NDArray vals = values.get(n);
            groups.add(scoped(groupedQ.get(n), qg -> {
                NDArray scores = qg.matMul(keys).reshape(rep, t, t).addi(pos.mask());
                NDArray probs = DeviceArrays.cast(DeviceArrays.cast(scores, DataType.FLOAT32).softmax(2), type);
                return probs.reshape((long) rep * t, t).matMul(vals);
            }));
        }
        return NDArrays.stack(groups)
                .reshape(b, heads, t, headDim)
                .transpose(0, 2, 1, 3)
                .reshape(b, t, (long) heads * headDim);
    }

    /**
     * x*cos + rotate_half(x)*sin with rotate_half(x) = cat(-x[d/2:], x[:d/2]), computed as
     * x*cos + cat(x[d/2:], x[:d/2]) * signedSin (signedSin carries the minus sign: exact); x is [B, n, T, d].
     */
    private static NDArray rotate(NDArray x, NDArray cos, NDArray signedSin) {
        NDList halves = x.split(2, 3);
        NDArray swapped = halves.get(1).concat(halves.get(0), 3);
        return x.mul(cos).addi(swapped.muli(signedSin));
    }

    /** In float32: x * rsqrt(mean(x^2) + eps), cast back to x's type, then times the weight (as HF). */
    static NDArray rmsNorm(NDArray h, NDArray weight, double eps) {
        NDArray x = DeviceArrays.cast(h, DataType.FLOAT32);
        int last = h.getShape().dimension() - 1;
        NDArray variance = x.square().mean(new int[] {last}, true);
        NDArray normed = x.div(variance.add(eps).sqrt());
        // normed is a new array (div), and so is its cast: safe to scale in place
        return DeviceArrays.cast(normed, h.getDataType()).muli(weight);
    }

    private static NDArray linear(NDArray x, NDArray weight) {
        return Linear.linear(x, weight).singletonOrThrow();
    }
}
