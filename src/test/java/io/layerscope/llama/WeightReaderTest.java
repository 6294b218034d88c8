package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.fixtures.ReferencePython;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Weights read by {@link WeightReader}, by every route, against the model package's own decoding
 * ({@link Checkpoint#readFloats}, plain Java loops over the mapped bytes), bit for bit.
 */
class WeightReaderTest {
    private static final String Q = "model.layers.1.self_attn.q_proj.weight";
    private static final String K = "model.layers.1.self_attn.k_proj.weight";
    private static final String V = "model.layers.1.self_attn.v_proj.weight";
    private static final List<String> SINGLE = List.of("model.embed_tokens.weight", "model.layers.0.mlp.down_proj.weight",
            "model.layers.1.input_layernorm.weight", "model.norm.weight");

    @TempDir
    Path tmp;

    /** Host route on 1 and 3 threads, with and without huge pages, whole or in small blocks; the device route on the CPU. */
    static Stream<Arguments> routes() {
        List<Arguments> out = new ArrayList<>();
        for (DType dtype : new DType[] {DType.BF16, DType.F16, DType.F32}) {
            out.add(Arguments.of(dtype, new WeightReader.Options(1, false, false, 1L << 28)));
            out.add(Arguments.of(dtype, new WeightReader.Options(3, true, false, 1L << 28)));
            // blocks of a few rows: rows of a part land in several fills, and fills straddle no part
            out.add(Arguments.of(dtype, new WeightReader.Options(2, true, false, 100)));
            out.add(Arguments.of(dtype, new WeightReader.Options(1, false, true, 1L << 24)));
            out.add(Arguments.of(dtype, new WeightReader.Options(1, false, true, 100)));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("routes")
    void float32WeightsAreTheDecodedValuesBitForBit(DType dtype, WeightReader.Options options) {
        Checkpoint ckpt = Checkpoint.open(TinyModels.gqa(dtype).write(tmp.resolve("m")));
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            List<NDArray> loaded = new ArrayList<>();
            try (WeightReader reader = new WeightReader(m, ckpt, DataType.FLOAT32, options)) {
                for (String name : SINGLE) {
                    NDArray w = reader.weight(name);
                    loaded.add(w);
                    assertEquals(DataType.FLOAT32, w.getDataType());
                    assertEquals(new Shape(ckpt.tensor(name).shape()), w.getShape());
                    assertArrayEquals(bits(ckpt.readFloats(name)), bits(w.toFloatArray()), name);
                }
                NDArray qkv = reader.stacked(Q, K, V);
                loaded.add(qkv);
                long rows = ckpt.tensor(Q).shape()[0] + ckpt.tensor(K).shape()[0] + ckpt.tensor(V).shape()[0];
                assertEquals(new Shape(rows, ckpt.config().hiddenSize()), qkv.getShape());
                assertArrayEquals(bits(concat(ckpt.readFloats(Q), ckpt.readFloats(K), ckpt.readFloats(V))),
                        bits(qkv.toFloatArray()));
            }
            assertEquals(loaded.size(), m.getManagedArrays().size(), "only the weights stay; staging, views and tables are freed");
        }
    }

    /**
     * float16 compute (the device route): each weight is its float32 value rounded to nearest even,
     * as CPython's struct.pack('<e') rounds it (the tiny model's weights are far below f16's overflow).
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16", "F32"})
    void float16WeightsAreTheDecodedValuesRounded(DType dtype) {
        Checkpoint ckpt = Checkpoint.open(TinyModels.gqa(dtype).write(tmp.resolve("m")));
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch");
             WeightReader reader = new WeightReader(m, ckpt, DataType.FLOAT16, WeightReader.optionsFor(Device.cpu(),
                     DataType.FLOAT16))) {
            NDArray gateUp = reader.stacked("model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight");
            assertEquals(DataType.FLOAT16, gateUp.getDataType());
            float[] expected = concat(ckpt.readFloats("model.layers.0.mlp.gate_proj.weight"),
                    ckpt.readFloats("model.layers.0.mlp.up_proj.weight"));
            long[] halves = java.util.Arrays.stream(ReferencePython.runWithInput("import struct, sys\n"
                    + "for t in sys.stdin.read().split():\n"
                    + "    print(struct.unpack('<H', struct.pack('<e', float(t)))[0])\n", ReferencePython.numbers(expected))
                    .strip().split("\n")).mapToLong(Long::parseLong).toArray();
            assertEquals(expected.length, halves.length);
            ByteBuffer got = ByteBuffer.wrap(gateUp.toByteArray()).order(ByteOrder.nativeOrder());
            for (int i = 0; i < expected.length; i++) {
                assertEquals(halves[i], got.getShort(2 * i) & 0xffff, "element " + i);
            }
        }
    }

    /** Both routes against the shift for every one of the 65536 bf16 patterns (NaN payloads included). */
    @Test
    void everyBf16PatternWidensExactlyByBothRoutes() throws Exception {
        // an embedding of 2048 x 32 = 65536 values, overwritten with every pattern in turn
        Checkpoint ckpt = Checkpoint.open(TinyModels.gqa(DType.BF16).vocab(2048).write(tmp.resolve("m")));
        String name = "model.embed_tokens.weight";
        short[] patterns = new short[1 << 16];
        for (int i = 0; i < patterns.length; i++) {
            patterns[i] = (short) i;
        }
        writeBf16(ckpt, name, patterns);
        for (WeightReader.Options options : List.of(new WeightReader.Options(1, false, true, 1000),
                new WeightReader.Options(2, true, false, 1000))) {
            try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                 WeightReader reader = new WeightReader(m, ckpt, DataType.FLOAT32, options)) {
                float[] got = reader.weight(name).toFloatArray();
                for (int i = 0; i < patterns.length; i++) {
                    assertEquals(i << 16, Float.floatToRawIntBits(got[i]), options + ", pattern " + Integer.toHexString(i));
                }
            }
        }
    }

    @Test
    void theHostRouteIsForFloat32OnTheCpuOnly() {
        Checkpoint ckpt = Checkpoint.open(TinyModels.gqa(DType.BF16).write(tmp.resolve("m")));
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new WeightReader(m, ckpt, DataType.FLOAT16, new WeightReader.Options(1, true, false, 100)));
            assertEquals("the host route fills float32 CPU memory, not float16 on cpu()", e.getMessage());
        }
        assertEquals(false, WeightReader.optionsFor(Device.cpu(), DataType.FLOAT32).onDevice());
        assertEquals(true, WeightReader.optionsFor(Device.cpu(), DataType.FLOAT16).onDevice());
        assertEquals(true, WeightReader.optionsFor(Device.gpu(), DataType.FLOAT32).onDevice());
    }

    /** Rewrites a bf16 tensor's bytes in place in its safetensors file. */
    private static void writeBf16(Checkpoint ckpt, String name, short[] values) throws Exception {
        var info = ckpt.tensor(name);
        try (var ch = java.nio.channels.FileChannel.open(ckpt.fileOf(name).path(), java.nio.file.StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (short s : values) {
                b.putShort(s);
            }
            b.flip();
            ch.write(b, info.begin());
        }
    }

    static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }
}
