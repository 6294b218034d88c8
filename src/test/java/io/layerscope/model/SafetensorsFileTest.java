package io.layerscope.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.ReferencePython;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path tmp;

    /** A safetensors file from its parts: little-endian u64 header length, header JSON, data. */
    static Path writeRaw(Path file, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Files.write(file, b.array());
        return file;
    }

    static byte[] bytes(int... v) {
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (byte) v[i];
        }
        return out;
    }

    @Test
    void readsAHandWrittenFileWithBf16F16AndF32Tensors() throws IOException {
        String header = "{\"a\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[8,14]},"
                + "\"c\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[14,22]},"
                + "\"__metadata__\":{\"format\":\"pt\"}}";
        byte[] data = bytes(
                0x80, 0x3F, 0x40, 0xC0, 0x00, 0x3F, 0x49, 0x40,  // bf16 1.0, -3.0, 0.5, 3.140625
                0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00,              // f16 1.0, -2.0, 2^-24 (smallest subnormal)
                0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x80, 0xBE); // f32 1.5, -0.25
        Path p = writeRaw(tmp.resolve("hand.safetensors"), header, data);
        long dataStart = 8 + header.getBytes(StandardCharsets.UTF_8).length;

        SafetensorsFile f = SafetensorsFile.open(p);
        assertEquals(List.of("a", "b", "c"), List.copyOf(f.tensors().keySet()));
        assertEquals("pt", f.metadata().get("format"));
        assertEquals(dataStart + 22, f.fileSize());

        TensorInfo a = f.tensor("a");
        assertEquals(DType.BF16, a.dtype());
        assertArrayEquals(new long[] {2, 2}, a.shape());
        assertEquals(dataStart, a.begin());
        assertEquals(dataStart + 8, a.end());
        TensorInfo c = f.tensor("c");
        assertEquals(dataStart + 14, c.begin());
        assertEquals(2, c.numel());

        assertArrayEquals(new float[] {1.0f, -3.0f, 0.5f, 3.140625f}, f.readFloats("a"));
        assertArrayEquals(new float[] {1.0f, -2.0f, (float) Math.pow(2, -24)}, f.readFloats("b"));
        assertArrayEquals(new float[] {1.5f, -0.25f}, f.readFloats("c"));
        // an array of the tensor's size is read into (every value overwritten), another size is not
        float[] reuse = {9f, 9f, 9f, 9f};
        assertSame(reuse, f.readFloats("a", reuse));
        assertArrayEquals(new float[] {1.0f, -3.0f, 0.5f, 3.140625f}, reuse);
        float[] other = f.readFloats("c", reuse);
        assertNotSame(reuse, other);
        assertArrayEquals(new float[] {1.5f, -0.25f}, other);
        assertArrayEquals(new float[] {1.0f, -3.0f, 0.5f, 3.140625f}, reuse);
        // the mapping is the tensor's own bytes, no copy of the rest of the file
        assertEquals(6, f.map("b").capacity());
        assertEquals((short) 0xC000, f.map("b").getShort(2));
        // row slices: the second row of a, then a bad range
        assertEquals(4, f.mapRows("a", 1, 1).capacity());
        assertArrayEquals(new float[] {0.5f, 3.140625f}, f.readRows("a", 1, 1));
        assertArrayEquals(new float[] {-2.0f}, f.readRows("b", 1, 1));
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> f.mapRows("a", 1, 2));
        assertEquals(p + ": tensor a of shape [2, 2] has no rows [1, 3)", e.getMessage());
        // blocks of rows read into one array: a smaller block reuses the larger's array
        try (SafetensorsFile.RowBlocks blocks = f.rowBlocks("a")) {
            float[] both = blocks.read(0, 2);
            assertArrayEquals(new float[] {1.0f, -3.0f, 0.5f, 3.140625f}, both);
            assertSame(both, blocks.read(1, 1));
            assertArrayEquals(new float[] {0.5f, 3.140625f, 0.5f, 3.140625f}, both);
            assertArrayEquals(new float[] {1.0f, -3.0f}, Arrays.copyOf(blocks.read(0, 1), 2));
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> blocks.read(1, 2));
            assertEquals("no rows [1, 3) of 2", bad.getMessage());
        }
        // f16, one column per row
        try (SafetensorsFile.RowBlocks blocks = f.rowBlocks("b")) {
            assertArrayEquals(new float[] {-2.0f, (float) Math.pow(2, -24)}, Arrays.copyOf(blocks.read(1, 2), 2));
        }
    }

    /**
     * Tensors longer than one positional read (1 MiB) and than one bulk copy of halves, at an odd
     * offset in the file: every value as decoded from its own bytes (bf16: the top half of a
     * float32; f16: CPython's struct, see {@link #f16Table}).
     */
    @Test
    void tensorsSpanningSeveralReadsDecodeEveryValue() throws IOException {
        int halves = (1 << 20) / 2 * 3 + 4097;   // three reads and a bit, a bulk copy and one more value
        int floats = (1 << 20) / 4 + 3;
        int doubles = (1 << 20) / 8 * 2 + 1;
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        ByteBuffer data = ByteBuffer.allocate(2 + 2 * halves * 2 + 4 * floats + 8 * doubles).order(ByteOrder.LITTLE_ENDIAN);
        data.putShort((short) 0x1234);   // the tensors start 2 bytes into the data: no alignment assumed
        short[] bf16 = new short[halves];
        short[] f16 = new short[halves];
        float[] f32 = new float[floats];
        double[] f64 = new double[doubles];
        for (int k = 0; k < halves; k++) {
            bf16[k] = (short) random.nextInt(1 << 16);
            data.putShort(bf16[k]);
        }
        for (int k = 0; k < halves; k++) {
            f16[k] = (short) random.nextInt(1 << 16);
            data.putShort(f16[k]);
        }
        for (int k = 0; k < floats; k++) {
            f32[k] = Float.intBitsToFloat(random.nextInt());
            data.putFloat(f32[k]);
        }
        for (int k = 0; k < doubles; k++) {
            f64[k] = random.nextGaussian() * 1e3;
            data.putDouble(f64[k]);
        }
        long b = 2;
        long f = b + 2L * halves;
        long s = f + 2L * halves;
        long d = s + 4L * floats;
        String header = "{\"bf\":{\"dtype\":\"BF16\",\"shape\":[" + halves + "],\"data_offsets\":[" + b + "," + f + "]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[" + halves + "],\"data_offsets\":[" + f + "," + s + "]},"
                + "\"s\":{\"dtype\":\"F32\",\"shape\":[" + floats + "],\"data_offsets\":[" + s + "," + d + "]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[" + doubles + "],\"data_offsets\":[" + d + "," + data.capacity() + "]},"
                + "\"pad\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}";
        SafetensorsFile file = SafetensorsFile.open(writeRaw(tmp.resolve("long.safetensors"), header, data.array()));

        float[] expectedBf16 = new float[halves];
        float[] expectedF16 = new float[halves];
        int[] f16Bits = f16Table();
        for (int k = 0; k < halves; k++) {
            expectedBf16[k] = Float.intBitsToFloat((bf16[k] & 0xffff) << 16);
            expectedF16[k] = Float.intBitsToFloat(f16Bits[f16[k] & 0xffff]);
        }
        float[] expectedF64 = new float[doubles];
        for (int k = 0; k < doubles; k++) {
            expectedF64[k] = (float) f64[k];
        }
        // NaN payloads included: compare bits, not values
        assertBitsEqual(expectedBf16, file.readFloats("bf"));
        assertBitsEqual(expectedF16, file.readFloats("h"));
        assertBitsEqual(f32, file.readFloats("s"));
        assertBitsEqual(expectedF64, file.readFloats("d"));
        float[] reuse = new float[halves];
        assertSame(reuse, file.readFloats("h", reuse));
        assertBitsEqual(expectedF16, reuse);
        // stretches across a read's end, into the start of a longer array
        int first = (1 << 20) / 2 - 3;
        float[] stretch = new float[halves];
        file.readFloats("bf", first, (1 << 20) + 5, stretch);
        assertBitsEqual(Arrays.copyOfRange(expectedBf16, first, first + (1 << 20) + 5),
                Arrays.copyOf(stretch, (1 << 20) + 5));
        file.readFloats("d", doubles - 2, 2, stretch);
        assertBitsEqual(Arrays.copyOfRange(expectedF64, doubles - 2, doubles), Arrays.copyOf(stretch, 2));
        IllegalArgumentException beyond = assertThrows(IllegalArgumentException.class,
                () -> file.readFloats("s", floats - 2, 3, stretch));
        assertEquals("entries [" + (floats - 2) + ", " + (floats + 1) + ") of tensor s (" + floats
                + " entries) into an array of " + halves, beyond.getMessage());
        LayerscopeException notFloating = assertThrows(LayerscopeException.class,
                () -> file.readFloats("pad", 0, 1, stretch));
        assertEquals(file.path() + ": tensor pad has dtype U8, not a floating type", notFloating.getMessage());
    }

    /**
     * The float32 bits of every f16 pattern, from CPython's struct. CPython reads every NaN half as
     * one NaN, so a NaN's bits are torch's widening: sign and payload kept, the payload moved up 13 bits.
     */
    private static int[] f16Table() {
        return Arrays.stream(ReferencePython.runLongs(String.join("\n",
                "import struct",
                "for h in range(65536):",
                "    x = struct.unpack('<e', struct.pack('<H', h))[0]",
                "    nan = (h >> 15) << 31 | 0x7f800000 | (h & 0x3ff) << 13",
                "    print(nan if x != x else struct.unpack('<I', struct.pack('<f', x))[0])")))
                .mapToInt(v -> (int) v).toArray();
    }

    private static void assertBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int k = 0; k < expected.length; k++) {
            if (Float.floatToRawIntBits(expected[k]) != Float.floatToRawIntBits(actual[k])) {
                assertEquals(Integer.toHexString(Float.floatToRawIntBits(expected[k])),
                        Integer.toHexString(Float.floatToRawIntBits(actual[k])), "value " + k);
            }
        }
    }

    @Test
    void writerOutputReadsBackAndHasAPaddedHeader() throws IOException {
        Path p = tmp.resolve("w.safetensors");
        new SafetensorsWriter().metadata("format", "pt")
                .addFloats("x", DType.BF16, new long[] {3}, new float[] {1f, 2f, -0.5f})
                .addFloats("y", DType.F32, new long[] {1, 2}, new float[] {0.1f, 7f})
                .write(p);
        byte[] all = Files.readAllBytes(p);
        long headerLen = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8);
        assertEquals(8 + headerLen + 3 * 2 + 2 * 4, all.length);
        SafetensorsFile f = SafetensorsFile.open(p);
        assertArrayEquals(new float[] {1f, 2f, -0.5f}, f.readFloats("x"));
        assertArrayEquals(new float[] {0.1f, 7f}, f.readFloats("y"));
    }

    @Test
    void headerLengthBeyondTheFileIsRefused() throws IOException {
        Path p = tmp.resolve("long.safetensors");
        ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
        Files.write(p, b.array());
        assertMessage(p + ": header length 1000 does not fit the file of 40 bytes (truncated or not a safetensors file)", p);
    }

    @Test
    void aFileShorterThanTheLengthFieldIsRefused() throws IOException {
        Path p = Files.write(tmp.resolve("tiny.safetensors"), bytes(1, 2, 3));
        assertMessage(p + ": file is 3 bytes, shorter than the 8-byte header length", p);
    }

    @Test
    void offsetsOutsideTheDataSectionAreRefused() throws IOException {
        Path p = writeRaw(tmp.resolve("out.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[25],\"data_offsets\":[0,100]}}", new byte[8]);
        assertMessage(p + ": tensor w: data_offsets [0, 100] lie outside the data section of 8 bytes"
                + " (file truncated or header corrupt)", p);
    }

    @Test
    void aShapeWhoseProductOverflowsNamesTheFileAndTensor() throws IOException {
        Path p = writeRaw(tmp.resolve("huge.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", new byte[8]);
        assertMessage(p + ": tensor w: shape [4294967296,4294967296] of dtype F32 has more bytes than any file can hold"
                + " (the product overflows 64 bits); the header is corrupt or not a safetensors header, download the file"
                + " again", p);
        // elements fit in 64 bits, bytes do not
        Path q = writeRaw(tmp.resolve("huge-bytes.safetensors"),
                "{\"w\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}", new byte[8]);
        assertMessage(q + ": tensor w: shape [2305843009213693952] of dtype F64 has more bytes than any file can hold"
                + " (the product overflows 64 bits); the header is corrupt or not a safetensors header, download the file"
                + " again", q);
    }

    @Test
    void fractionalShapesAndOffsetsAreRefusedNotTruncated() throws IOException {
        Path p = writeRaw(tmp.resolve("frac.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", new byte[8]);
        assertMessage(p + ": tensor w: shape [2.5] is not a list of non-negative integers", p);
        Path q = writeRaw(tmp.resolve("frac-offsets.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0.5,8]}}", new byte[8]);
        assertMessage(q + ": tensor w: data_offsets [0.5, 8] lie outside the data section of 8 bytes"
                + " (file truncated or header corrupt)", q);
    }

    @Test
    void aTruncatedWriterFileIsRefusedNamingTheLastTensor() throws IOException {
        Path p = tmp.resolve("cut.safetensors");
        new SafetensorsWriter()
                .addFloats("first", DType.F32, new long[] {4}, new float[4])
                .addFloats("last", DType.F32, new long[] {4}, new float[4])
                .write(p);
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(raf.length() - 3);
        }
        assertMessage(p + ": tensor last: data_offsets [16, 32] lie outside the data section of 29 bytes"
                + " (file truncated or header corrupt)", p);
    }

    @Test
    void overlappingTensorsAreRefused() throws IOException {
        Path p = writeRaw(tmp.resolve("overlap.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]},"
                        + "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[20]);
        assertMessage(p + ": tensors a and c overlap in the data section", p);
    }

    @Test
    void aByteLengthThatDisagreesWithDtypeAndShapeIsRefused() throws IOException {
        Path p = writeRaw(tmp.resolve("len.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);
        assertMessage(p + ": tensor w: holds 8 bytes but dtype F32 x shape [3] needs 12", p);
    }

    /** An entry that lacks a field, or has one of the wrong JSON type, is refused naming the tensor. */
    @Test
    void anEntryWithoutDtypeShapeOrTwoDataOffsetsIsRefused() throws IOException {
        String[] entries = {
            "{\"shape\":[2],\"data_offsets\":[0,8]}",                             // no dtype
            "{\"dtype\":\"F32\",\"data_offsets\":[0,8]}",                         // no shape
            "{\"dtype\":\"F32\",\"shape\":[2]}",                                  // no data_offsets
            "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}",         // three offsets
            "{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}",                // dtype not a string
            "{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}",             // shape not a list
            "[\"F32\",[2],[0,8]]",                                                // not an object
        };
        for (int k = 0; k < entries.length; k++) {
            Path p = writeRaw(tmp.resolve("entry" + k + ".safetensors"), "{\"w\":" + entries[k] + "}", new byte[8]);
            assertMessage(p + ": tensor w: header entry needs dtype, shape and data_offsets [begin, end]", p);
        }
    }

    @Test
    void anUnknownDtypeIsRefused() throws IOException {
        Path p = writeRaw(tmp.resolve("dtype.safetensors"),
                "{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[2]);
        assertMessage(p + ": tensor w: unknown safetensors dtype \"Q4_K\""
                + " (known: BF16, F16, F32, F64, I64, I32, I16, I8, U8, BOOL)", p);
    }

    @Test
    void aHeaderThatIsNotJsonIsRefused() throws IOException {
        Path p = writeRaw(tmp.resolve("json.safetensors"), "{not json}", new byte[0]);
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> SafetensorsFile.open(p));
        assertEquals(true, e.getMessage().startsWith(p + ": header is not valid JSON ("), e.getMessage());
    }

    @Test
    void textAfterTheHeaderObjectOrATensorNamedTwiceIsRefused() throws IOException {
        String w = "\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}";
        Path trailing = writeRaw(tmp.resolve("trailing.safetensors"), "{" + w + "}{\"x\":1}", new byte[2]);
        assertMessage(trailing + ": header is not valid JSON (more follows its object); the file is corrupt or not a"
                + " safetensors file, download it again", trailing);
        Path twice = writeRaw(tmp.resolve("twice.safetensors"), "{" + w + "," + w + "}", new byte[2]);
        assertMessage(twice + ": header names tensor \"w\" twice; the file is corrupt or not a safetensors file,"
                + " download it again", twice);
        Path field = writeRaw(tmp.resolve("field.safetensors"),
                "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[2]);
        assertMessage(field + ": header gives tensor \"w\" its shape twice; the file is corrupt or not a safetensors file,"
                + " download it again", field);
        Path metadata = writeRaw(tmp.resolve("metadata.safetensors"),
                "{\"__metadata__\":{},\"__metadata__\":{}," + w + "}", new byte[2]);
        assertMessage(metadata + ": header names __metadata__ twice; the file is corrupt or not a safetensors file,"
                + " download it again", metadata);
        // padding: spaces as the format says, NUL bytes as some writers do; a key repeated in __metadata__
        Path padded = writeRaw(tmp.resolve("padded.safetensors"),
                "{\"__metadata__\":{\"format\":\"pt\",\"format\":\"pt\"}," + w + "}   \u0000\u0000", new byte[2]);
        assertEquals(List.of("w"), List.copyOf(SafetensorsFile.open(padded).tensors().keySet()));
    }

    @Test
    void aMissingFileIsNamed() {
        Path p = tmp.resolve("nope.safetensors");
        assertMessage(p + ": file not found", p);
    }

    private static void assertMessage(String expected, Path p) {
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> SafetensorsFile.open(p));
        assertEquals(expected, e.getMessage());
    }
}
