package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.function.UnaryOperator;

/**
 * The top 16 bits of the float32 bit patterns of non-negative values (bfloat16's bits, by
 * truncation), as device operations. DJL offers no bit reinterpretation, so they are computed in
 * float32 arithmetic, exactly: for a normal value v = 2^e * (1 + f), (e + 127) * 128 + floor(f * 128).
 * log2 only guesses e (off by at most one near a power of two), the comparisons with a table of
 * powers of two settle it, and dividing by a power of two is exact.
 */
final class ExactFloatBits {
    /** The largest top half of a float32's bits that is not a NaN's: +infinity's. */
    static final int INFINITY_TOP = 0x7f80;
    /** 2^(i - 126) for i = 0..254: powers of two of every float32 exponent, and one above (+infinity). */
    private final NDArray powersOfTwo;
    /** The first guess at each value's exponent: floor(log2 v), which a GPU's log2 may put one off. */
    private final UnaryOperator<NDArray> exponentGuess;

    /** With its table of powers of two on {@code manager}'s device, kept as long as the manager. */
    ExactFloatBits(NDManager manager) {
        this(manager, x -> x.log2().floor());
    }

    /**
     * With another first guess at the exponents: tests put it one off either way, as a GPU's log2 may
     * near powers of two (the CPU's is exact there, so only this shows the correction steps at work).
     */
    ExactFloatBits(NDManager manager, UnaryOperator<NDArray> exponentGuess) {
        this.exponentGuess = exponentGuess;
        float[] powers = new float[255];
        for (int i = 0; i < powers.length; i++) {
            powers[i] = Math.scalb(1f, i - 126);
        }
        this.powersOfTwo = DeviceArrays.floats(manager, powers, new Shape(powers.length));
    }

    /**
     * The top 16 bits of the float32 bits of {@code x}'s values (float32, none negative, no NaN), as
     * float32 integers 0..{@link #INFINITY_TOP}, on x's manager: the exponent e, then (e + 127) * 128 +
     * the top 7 bits of the mantissa, floor((v / 2^e - 1) * 128), every step exact in float32; below
     * 2^-126, floor(v * 2^126 * 2^7). What a histogram by bfloat16 bins and radix buckets need.
     */
    NDArray top16(NDArray x) {
        NDArray[] exponent = exponent(x, exponentGuess.apply(x), powersOfTwo, DataType.FLOAT32);
        NDArray e = exponent[0];
        NDArray power = exponent[1];
        NDArray normal = e.add(127).mul(128).add(x.div(power).sub(1).mul(128).floor());
        NDArray subnormal = x.mul(Math.scalb(1f, 126)).mul(128).floor();
        // +inf's normal branch is +inf: the clip gives its bits' top half
        return NDArrays.where(x.lt(Float.MIN_NORMAL), subnormal, normal).clip(0, INFINITY_TOP);
    }

    /**
     * The exponent e of each value, -126..127 (floor(log2 v) for a normal value), and 2^e, both in
     * {@code type}: {@code guess} (floor(log2 v)) may be off by one near a power of two, where a GPU's
     * log2 may round either way, and the comparisons with {@code powers} (2^(i - 126), i = 0..254)
     * settle it.
     */
    private static NDArray[] exponent(NDArray x, NDArray guess, NDArray powers, DataType type) {
        NDArray e = guess.clip(-126, 127);
        NDArray index = DeviceArrays.cast(e.add(126), DataType.INT64);
        NDArray below = DeviceArrays.cast(x.lt(powers.take(x.getManager(), index)), type);
        NDArray atOrAbove = DeviceArrays.cast(x.gte(powers.take(x.getManager(), index.add(1L))), type);
        e = e.sub(below).add(atOrAbove).clip(-126, 127);
        return new NDArray[] {e, powers.take(x.getManager(), DeviceArrays.cast(e.add(126), DataType.INT64))};
    }
}
