package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.model.LlamaConfig;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The position-dependent constants of one sequence length, built once per length on the device and
 * kept with the model: rotary cos and signed sin [T, d] (the sine with rotate_half's minus sign on
 * its first half), the same two scaled by the attention scale 1/sqrt(head_dim) for the queries, and
 * the additive causal mask [T, T], all in the compute type. Thread-safe, so concurrent tasks sharing
 * one model share the tables.
 */
final class PositionTables {
    /** Rotary tables for keys, for queries (times the attention scale) and the mask of one length. */
    record Tables(NDArray cos, NDArray sin, NDArray queryCos, NDArray querySin, NDArray mask) {
    }

    private final NDManager manager;
    private final DataType type;
    private final float[] invFreq;
    private final double scaling;
    private final Map<Integer, Tables> byLength = new ConcurrentHashMap<>();

    PositionTables(NDManager manager, LlamaConfig config, DataType type) {
        this.manager = manager;
        this.type = type;
        this.scaling = Math.pow(config.headDim(), -0.5);
        double[] inv = RotaryEmbedding.inverseFrequencies(config);
        this.invFreq = new float[inv.length];
        for (int i = 0; i < inv.length; i++) {
            invFreq[i] = (float) inv[i];
        }
    }

    Tables of(int length) {
        return byLength.computeIfAbsent(length, this::build);
    }

    private Tables build(int t) {
        try (NDManager scratch = manager.newSubManager()) {
            // As HF: freqs = position (x) inv_freq in float32, emb = cat(freqs, freqs), cos/sin in
            // float32, then cast to the compute type.
            float[] pos = new float[t];
            for (int i = 0; i < t; i++) {
                pos[i] = i;
            }
            NDArray positions = DeviceArrays.floats(scratch, pos, new Shape(t, 1));
            NDArray inv = DeviceArrays.floats(scratch, invFreq, new Shape(1, invFreq.length));
            NDArray freqs = positions.mul(inv);
            NDArray emb = freqs.concat(freqs, 1);
            NDArray cos32 = emb.cos();
            NDArray sin32 = emb.sin();
            // rotate_half(x) * sin = cat(x2, x1) * cat(-sin1, sin2): negation is exact
            float[] sign = new float[invFreq.length * 2];
            for (int i = 0; i < sign.length; i++) {
                sign[i] = i < invFreq.length ? -1f : 1f;
            }
            NDArray signedSin32 = sin32.mul(DeviceArrays.floats(scratch, sign, new Shape(1, sign.length)));
            NDArray cos = DeviceArrays.cast(cos32, type);
            NDArray sin = DeviceArrays.cast(signedSin32, type);
            NDArray queryCos = DeviceArrays.cast(cos32.mul(scaling), type);
            NDArray querySin = DeviceArrays.cast(signedSin32.mul(scaling), type);
            NDArray mask = DeviceArrays.cast(DeviceArrays.floats(scratch, causalMask(t), new Shape(t, t)), type);
            for (NDArray a : new NDArray[] {cos, sin, queryCos, querySin, mask}) {
                a.attach(manager);
            }
            return new Tables(cos, sin, queryCos, querySin, mask);
        }
    }

    /** 0 on and below the diagonal, the most negative finite value of the type above it (as HF). */
    private float[] causalMask(int t) {
        float min = type == DataType.FLOAT16 ? -65504f : -Float.MAX_VALUE;
        float[] m = new float[t * t];
        for (int row = 0; row < t; row++) {
            for (int col = row + 1; col < t; col++) {
                m[row * t + col] = min;
            }
        }
        return m;
    }
}
