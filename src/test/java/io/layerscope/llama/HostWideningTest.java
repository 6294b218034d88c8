package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.model.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link HostWidening} against hand-computed floats and plain per-element loops over the bit patterns. */
class HostWideningTest {

    @Test
    void bf16BitsWidenToTheFloatsWithTheSameTopHalf() {
        short[] bf16 = {(short) 0x3F80, (short) 0xC040, (short) 0x3E20, (short) 0x7F80, (short) 0x0001, (short) 0x8000,
            (short) 0x7FC1};
        int[] expected = {0x3F800000, 0xC0400000, 0x3E200000, 0x7F800000, 0x00010000, 0x80000000, 0x7FC10000};
        // 1.0, -3.0, 0.15625, +infinity, the smallest subnormal's top half, -0.0, a NaN with its payload
        assertArrayEquals(expected, bits(widen(shorts(bf16), DType.BF16, 1)));
    }

    @Test
    void f16WidensToTheSameValue() {
        short[] f16 = {(short) 0x3C00, (short) 0xC200, (short) 0x0001, (short) 0x7BFF, (short) 0xFC00, (short) 0x8000};
        float[] expected = {1.0f, -3.0f, 0x1p-24f, 65504f, Float.NEGATIVE_INFINITY, -0.0f};
        assertArrayEquals(bits(expected), bits(widen(shorts(f16), DType.F16, 1)));
    }

    @Test
    void f32IsCopied() {
        float[] values = {1.5f, -0.0f, Float.MIN_VALUE, Float.intBitsToFloat(0x7FC12345)};
        ByteBuffer src = direct(values.length * 4);
        for (float v : values) {
            src.putFloat(v);
        }
        assertArrayEquals(bits(values), bits(widen(src, DType.F32, 1)));
    }

    /**
     * Every bf16 and f16 bit pattern, in a buffer long enough for several chunks and not a multiple of
     * the four-at-a-time step, on 1 and 3 threads: each float is the top half shifted (bf16) or the
     * value IEEE 754 gives sign, exponent and fraction (f16), computed here by a plain loop.
     */
    @Test
    void everyBitPatternOnAnyThreadCount() {
        int count = 3 * HostWidening.CHUNK + 7;
        short[] patterns = new short[count];
        for (int i = 0; i < count; i++) {
            patterns[i] = (short) (i * 40503);   // odd multiplier: visits every 16-bit pattern
        }
        int[] bf16 = new int[count];
        for (int i = 0; i < count; i++) {
            bf16[i] = (patterns[i] & 0xffff) << 16;
        }
        for (int threads : new int[] {1, 3}) {
            assertArrayEquals(bf16, bits(widen(shorts(patterns), DType.BF16, threads)), threads + " threads");
            assertF16(patterns, widen(shorts(patterns), DType.F16, threads));
        }
    }

    /** Each float against the value IEEE 754 gives the f16 pattern's sign, exponent and fraction (NaN: its payload). */
    private static void assertF16(short[] patterns, float[] got) {
        for (int i = 0; i < patterns.length; i++) {
            int h = patterns[i] & 0xffff;
            int exp = (h >> 10) & 0x1f;
            int frac = h & 0x3ff;
            double sign = (h & 0x8000) != 0 ? -1 : 1;
            if (exp == 0x1f && frac != 0) {
                // payload kept: the f16 fraction in the float's top fraction bits, quiet bit included
                assertEquals(((h & 0x8000) << 16) | 0x7F800000 | (frac << 13), Float.floatToRawIntBits(got[i]),
                        "f16 pattern " + Integer.toHexString(h));
            } else {
                float expected = exp == 0x1f ? (float) (sign * Double.POSITIVE_INFINITY)
                        : (float) (sign * (exp == 0 ? frac * Math.pow(2, -24) : (1024 + frac) * Math.pow(2, exp - 25)));
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got[i]),
                        "f16 pattern " + Integer.toHexString(h));
            }
        }
    }

    @Test
    void randomF32OnThreeThreadsIsAnExactCopy() {
        SplittableRandom rnd = new SplittableRandom(5);
        int count = 2 * HostWidening.CHUNK + 3;
        ByteBuffer src = direct(count * 4);
        int[] expected = new int[count];
        for (int i = 0; i < count; i++) {
            expected[i] = rnd.nextInt();
            src.putInt(expected[i]);
        }
        assertArrayEquals(expected, bits(widen(src, DType.F32, 3)));
        assertArrayEquals(expected, bits(widen(src, DType.F32, 1)));
    }

    /** Random bit patterns (the test above repeats every 65,536 elements, which would hide a chunk read from the wrong place). */
    @Test
    void randomHalvesFromAFileOnAnyThreadCount() {
        SplittableRandom rnd = new SplittableRandom(9);
        int count = 3 * HostWidening.CHUNK + 7;
        short[] patterns = new short[count];
        int[] bf16 = new int[count];
        for (int i = 0; i < count; i++) {
            patterns[i] = (short) rnd.nextInt();
            bf16[i] = (patterns[i] & 0xffff) << 16;
        }
        for (int threads : new int[] {1, 3}) {
            assertArrayEquals(bf16, bits(widen(shorts(patterns), DType.BF16, threads)), threads + " threads");
            assertF16(patterns, widen(shorts(patterns), DType.F16, threads));
        }
    }

    @Test
    void aFileCutShortIsReportedByName() throws IOException {
        Path file = Files.createTempFile("widening", ".safetensors");
        try {
            Files.write(file, new byte[10]);
            try (HostWidening w = new HostWidening(1); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                LayerscopeException e = assertThrows(LayerscopeException.class,
                        () -> w.fill(ch, 4, DType.BF16, direct(16), "m.safetensors: tensor w"));
                assertEquals("m.safetensors: tensor w ends before its data does (the file was cut short)", e.getMessage());
            }
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void mismatchedSizesAreRefused() throws IOException {
        Path file = Files.createTempFile("widening", ".safetensors");
        try (HostWidening w = new HostWidening(1); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> w.fill(ch, 0, DType.BF16, direct(6), "w"));
            assertEquals("target holds 6 bytes, not whole float32 values", e.getMessage());
            IllegalArgumentException f = assertThrows(IllegalArgumentException.class,
                    () -> w.fill(ch, 0, DType.F64, direct(4), "w"));
            assertEquals("not a stored weight type: F64", f.getMessage());
        } finally {
            Files.delete(file);
        }
        assertEquals("threads 0 must be at least 1",
                assertThrows(IllegalArgumentException.class, () -> new HostWidening(0)).getMessage());
    }

    /** {@code src}'s bytes written to a file after a prefix (a tensor's data starts past the header), then widened from there. */
    private static float[] widen(ByteBuffer src, DType dtype, int threads) {
        int count = src.capacity() / dtype.bytes();
        ByteBuffer dst = direct(count * 4);
        try {
            Path file = Files.createTempFile("widening", ".safetensors");
            try {
                byte[] bytes = new byte[13 + src.capacity()];
                src.duplicate().clear().get(bytes, 13, src.capacity());
                Files.write(file, bytes);
                try (HostWidening w = new HostWidening(threads); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                    w.fill(ch, 13, dtype, dst, file.toString());
                }
            } finally {
                Files.delete(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        float[] out = new float[count];
        dst.asFloatBuffer().get(out);
        return out;
    }

    private static ByteBuffer shorts(short[] values) {
        ByteBuffer b = direct(values.length * 2);
        for (short s : values) {
            b.putShort(s);
        }
        return b;
    }

    private static ByteBuffer direct(int bytes) {
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }
}
