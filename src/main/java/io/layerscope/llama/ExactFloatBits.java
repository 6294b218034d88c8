package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The float32 bit patterns of non-negative values as device operations. DJL offers no bit
 * reinterpretation, so the bits are computed in float64 arithmetic, exactly: for a normal value
 * v = 2^e * (1 + f), (e + 127) * 2^23 + f * 2^23; below 2^-126, v * 2^149. log2 only guesses e (off
 * by at most one near a power of two), the comparisons with a table of powers of two settle it, and
 * dividing by a power of two is exact.
 */
final class ExactFloatBits {
    private static final double TWO_POW_23 = 1 << 23;
    /** The largest top half of a float32's bits that is not a NaN's: +infinity's. */
    static final int INFINITY_TOP = 0x7f80;
    /** 2^(i - 126) for i = 0..254: powers of two of every float32 exponent, and one above. */
    private final NDArray powersOfTwo;
    /** The same in float32, the one above (2^128) being +infinity. */
    private final NDArray powersOfTwo32;

    /** With its tables of powers of two on {@code manager}'s device, kept as long as the manager. */
    ExactFloatBits(NDManager manager) {
        double[] powers = new double[255];
        float[] powers32 = new float[255];
        for (int i = 0; i < powers.length; i++) {
            powers[i] = Math.scalb(1.0, i - 126);
            powers32[i] = Math.scalb(1f, i - 126);
        }
        this.powersOfTwo = DeviceArrays.doubles(manager, powers, new Shape(powers.length));
        this.powersOfTwo32 = DeviceArrays.floats(manager, powers32, new Shape(powers32.length));
    }

    /**
     * The top 16 bits of the float32 bits of {@code x}'s values (float32, none negative, no NaN), as
     * float32 integers 0..{@link #INFINITY_TOP}, on x's manager: the exponent as in {@link #of}, then
     * (e + 127) * 128 + the top 7 bits of the mantissa, floor((v / 2^e - 1) * 128), every step exact in
     * float32; below 2^-126, floor(v * 2^126 * 2^7). Half the bytes of {@link #of} and fewer steps,
     * for what needs only bfloat16's bits (a histogram's bins).
     */
    NDArray top16(NDArray x) {
        NDArray[] exponent = exponent(x, powersOfTwo32, DataType.FLOAT32);
        NDArray e = exponent[0];
        NDArray power = exponent[1];
        NDArray normal = e.add(127).mul(128).add(x.div(power).sub(1).mul(128).floor());
        NDArray subnormal = x.mul(Math.scalb(1f, 126)).mul(128).floor();
        // +inf's normal branch is +inf: the clip gives its bits' top half
        return NDArrays.where(x.lt(Float.MIN_NORMAL), subnormal, normal).clip(0, INFINITY_TOP);
    }

    /**
     * The float32 bits of {@code x}'s values (float64 holding float32 values, none negative, no NaN), as
     * float64 integers, on x's manager.
     */
    NDArray of(NDArray x) {
        NDArray[] exponent = exponent(x, powersOfTwo, DataType.FLOAT64);
        NDArray e = exponent[0];
        NDArray power = exponent[1];
        NDArray normal = e.add(127).mul(TWO_POW_23).add(x.div(power).sub(1).mul(TWO_POW_23));
        NDArray subnormal = x.mul(Math.scalb(1.0, 149));
        // +inf's bits 0x7f800000 are the clip's upper end: every finite float's bits lie below
        return NDArrays.where(x.lt(Math.scalb(1.0, -126)), subnormal, normal).clip(0, 0x7f800000);
    }

    /**
     * The exponent e of each value, -126..127 (floor(log2 v) for a normal value), and 2^e, both in
     * {@code type}: log2 only guesses e (off by at most one near a power of two, where a GPU's log2
     * may round either way), and the comparisons with {@code powers} (2^(i - 126), i = 0..254) settle it.
     */
    private static NDArray[] exponent(NDArray x, NDArray powers, DataType type) {
        NDArray e = x.log2().floor().clip(-126, 127);
        NDArray index = DeviceArrays.cast(e.add(126), DataType.INT64);
        NDArray below = DeviceArrays.cast(x.lt(powers.take(x.getManager(), index)), type);
        NDArray atOrAbove = DeviceArrays.cast(x.gte(powers.take(x.getManager(), index.add(1L))), type);
        e = e.sub(below).add(atOrAbove).clip(-126, 127);
        return new NDArray[] {e, powers.take(x.getManager(), DeviceArrays.cast(e.add(126), DataType.INT64))};
    }
}
