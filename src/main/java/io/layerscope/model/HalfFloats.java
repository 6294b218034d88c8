package io.layerscope.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;

/**
 * Decodes little-endian BF16, F16 and F32 bytes to float32. bf16 is the top half of a float32,
 * so widening it is exact; DJL must never see a BF16 array (it aborts the JVM), so every bf16
 * path goes through here.
 */
public final class HalfFloats {
    private HalfFloats() {
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** IEEE 754 binary16 to float32 (exact). Java 17 has no Float.float16ToFloat. */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** float32 to IEEE 754 binary16, rounding to nearest even (as torch's .half()). */
    public static short floatToF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs >= 0x7f800000) {
            return (short) (sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0));
        }
        if (abs >= 0x477ff000) {
            return (short) (sign | 0x7c00);
        }
        if (abs < 0x38800000) {
            // subnormal half (or zero): value / 2^-24, rounded to nearest even
            float scaled = Float.intBitsToFloat(abs) * 0x1p24f;
            return (short) (sign | (int) Math.rint(scaled));
        }
        int rounded = abs + 0xfff + ((abs >>> 13) & 1);
        return (short) (sign | ((rounded - 0x38000000) >>> 13));
    }

    /** Rounds to nearest even, as torch's {@code .to(torch.bfloat16)} does; NaN stays NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** Halves per bulk read of {@link #decode}: small enough for the L1 cache, large enough to amortise the call. */
    private static final int HALVES_PER_READ = 4096;

    /**
     * Decodes {@code count} elements of {@code dtype} from {@code src} (read from its position).
     * Halves are copied out in bulk first: read one by one through the buffer, each value costs a
     * bounds check and an index update, about twice the time of the whole decode.
     */
    public static void decode(ByteBuffer src, DType dtype, float[] dst, int dstOffset, int count) {
        ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(dst, dstOffset, count);
            case BF16, F16 -> decodeHalves(b.asShortBuffer(), dtype == DType.BF16, dst, dstOffset, count);
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = (float) b.getDouble();
                }
            }
            default -> throw new IllegalArgumentException("not a floating dtype: " + dtype);
        }
    }

    private static void decodeHalves(ShortBuffer src, boolean bf16, float[] dst, int dstOffset, int count) {
        short[] halves = new short[Math.min(count, HALVES_PER_READ)];
        for (int done = 0; done < count; done += halves.length) {
            int n = Math.min(halves.length, count - done);
            src.get(halves, 0, n);
            int at = dstOffset + done;
            if (bf16) {
                for (int k = 0; k < n; k++) {
                    dst[at + k] = Float.intBitsToFloat(halves[k] << 16);   // the sign extension shifts out
                }
            } else {
                for (int k = 0; k < n; k++) {
                    dst[at + k] = f16ToFloat(halves[k]);
                }
            }
        }
    }
}
