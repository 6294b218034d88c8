package io.layerscope.llamacpp;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a GGUF file (version 3, little-endian) holding metadata and float32 tensors, as ggml's
 * gguf.cpp lays it out: header, key-value pairs, tensor infos, zero padding to the alignment, then
 * each tensor's data padded to the alignment. Only what an importance matrix needs: string, uint32
 * and string-array values, F32 tensors.
 *
 * <pre>{@code
 * GgufWriter g = new GgufWriter();
 * g.string("general.type", "imatrix");
 * g.tensor("blk.0.attn_q.weight.in_sum2", new long[] {n, 1}, sums);   // ggml order: ne[0] first
 * g.writeTo(out);
 * }</pre>
 */
final class GgufWriter {
    static final int MAGIC = 0x46554747;   // "GGUF" as little-endian bytes
    static final int VERSION = 3;
    /** ggml's GGUF_DEFAULT_ALIGNMENT, in force when the file sets no general.alignment. */
    static final int ALIGNMENT = 32;

    // gguf_type values
    private static final int TYPE_UINT32 = 4;
    private static final int TYPE_STRING = 8;
    private static final int TYPE_ARRAY = 9;
    /** ggml_type GGML_TYPE_F32. */
    private static final int GGML_F32 = 0;

    private record Tensor(String name, long[] shape, float[] data) {
    }

    private final Buffer metadata = new Buffer();
    private int keys;
    private final List<Tensor> tensors = new ArrayList<>();

    void string(String key, String value) {
        key(key, TYPE_STRING);
        metadata.string(value);
    }

    void uint32(String key, long value) {
        if (value < 0 || value > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(key + " = " + value + " does not fit a uint32");
        }
        key(key, TYPE_UINT32);
        metadata.int32((int) value);
    }

    void strings(String key, List<String> values) {
        key(key, TYPE_ARRAY);
        metadata.int32(TYPE_STRING);
        metadata.int64(values.size());
        values.forEach(metadata::string);
    }

    /** A float32 tensor; {@code shape} in ggml's order (ne[0], the contiguous dimension, first). */
    void tensor(String name, long[] shape, float[] data) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException(name + ": shape holds " + n + " values, data " + data.length);
        }
        tensors.add(new Tensor(name, shape.clone(), data));
    }

    private void key(String key, int type) {
        metadata.string(key);
        metadata.int32(type);
        keys++;
    }

    void writeTo(OutputStream out) throws IOException {
        Buffer head = new Buffer();
        head.int32(MAGIC);
        head.int32(VERSION);
        head.int64(tensors.size());
        head.int64(keys);
        head.bytes(metadata.toByteArray());
        long offset = 0;
        for (Tensor t : tensors) {
            head.string(t.name());
            head.int32(t.shape().length);
            for (long d : t.shape()) {
                head.int64(d);
            }
            head.int32(GGML_F32);
            head.int64(offset);
            offset += padded((long) t.data().length * Float.BYTES);
        }
        byte[] header = head.toByteArray();
        out.write(header);
        out.write(new byte[(int) (padded(header.length) - header.length)]);
        for (Tensor t : tensors) {
            ByteBuffer b = ByteBuffer.allocate((int) padded((long) t.data().length * Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(t.data());
            out.write(b.array());
        }
    }

    static long padded(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** Little-endian scalars and GGUF strings (uint64 byte length, UTF-8 bytes, no terminator). */
    private static final class Buffer {
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        private final ByteBuffer scratch = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);

        void int32(int v) {
            scratch.clear();
            bytes.write(scratch.putInt(v).array(), 0, Integer.BYTES);
        }

        void int64(long v) {
            scratch.clear();
            bytes.write(scratch.putLong(v).array(), 0, Long.BYTES);
        }

        void string(String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            int64(utf8.length);
            bytes.write(utf8, 0, utf8.length);
        }

        void bytes(byte[] b) {
            bytes.write(b, 0, b.length);
        }

        byte[] toByteArray() {
            return bytes.toByteArray();
        }
    }
}
