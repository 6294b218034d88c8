package io.layerscope.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.LayerscopeException;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.SafetensorsFile;
import io.layerscope.model.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;

/**
 * The one place where the llama package creates or casts NDArrays. Every path goes through
 * {@link #checked(DataType)}, which refuses {@link DataType#BFLOAT16} (and the 16-bit integers and
 * wider unsigned ones) with an exception: DJL's PyTorch engine aborts the whole JVM (no Java
 * exception) on such an array, so a bf16 weight is widened here to float32 (exact: bf16 is the top half of a float32) before DJL sees it.
 *
 * <p>Weights reach the device without passing through Java float arrays: F32 and F16 tensors wrap
 * the memory-mapped safetensors bytes directly; BF16 tensors are widened straight into the native
 * memory of a float32 tensor, so no Java direct-memory quota limits the model size.
 */
final class DeviceArrays {
    /** Elements widened per step from bf16; bounds the Java scratch arrays. */
    private static final int WIDEN_CHUNK = 1 << 16;

    private DeviceArrays() {
    }

    /** Passes any type DJL can hold; refuses bfloat16 and the integer types libtorch's JNI lacks before they reach DJL. */
    static DataType checked(DataType type) {
        if (type == DataType.BFLOAT16) {
            throw new LayerscopeException("refusing to create a bfloat16 NDArray: DJL's PyTorch engine aborts the JVM on"
                    + " bfloat16, so bf16 data must be widened to float32 (or cast to float16) first; this is a bug in"
                    + " layerscope, please report it");
        }
        if (type == DataType.INT16 || type == DataType.UINT16 || type == DataType.UINT32 || type == DataType.UINT64) {
            throw new LayerscopeException("refusing to create a " + type + " NDArray: DJL's PyTorch engine aborts the JVM on"
                    + " it; this is a bug in layerscope, please report it");
        }
        return type;
    }

    /**
     * An array over {@code direct}'s bytes (little-endian, row-major). On the CPU it wraps the buffer
     * without a copy and keeps a reference to it; on a GPU the bytes are copied to the device.
     */
    static NDArray wrap(NDManager manager, ByteBuffer direct, Shape shape, DataType type) {
        return manager.create(direct, shape, checked(type));
    }

    /** An uninitialised array in native memory. */
    static NDArray empty(NDManager manager, Shape shape, DataType type) {
        return manager.create(shape, checked(type));
    }

    static NDArray zeros(NDManager manager, Shape shape, DataType type) {
        return manager.zeros(shape, checked(type));
    }

    static NDArray floats(NDManager manager, float[] values, Shape shape) {
        return manager.create(values, shape);
    }

    static NDArray booleans(NDManager manager, boolean[] values, Shape shape) {
        return manager.create(values, shape);
    }

    /** A new CPU array holding a copy of {@code bytes} (native byte order, row-major) in {@code type}. */
    static NDArray fromBytes(NDManager cpu, byte[] bytes, Shape shape, DataType type) {
        NDArray out = empty(cpu, shape, type);
        // a contiguous CPU tensor's toByteBuffer(true) is a direct view of its storage, as in widenBf16
        out.toByteBuffer(true).put(bytes);
        return out;
    }

    static NDArray longs(NDManager manager, long[] values, Shape shape) {
        return manager.create(values, shape);
    }

    /** {@code array} in {@code type}; the array itself when it already has that type. */
    static NDArray cast(NDArray array, DataType type) {
        return array.toType(checked(type), false);
    }

    /**
     * Loads one checkpoint tensor onto {@code manager}'s device in {@code compute} type. The result
     * is attached to {@code manager}; staging arrays are freed before returning.
     */
    static NDArray weight(NDManager manager, Checkpoint ckpt, String name, DataType compute) {
        SafetensorsFile file = ckpt.fileOf(name);
        TensorInfo info = file.tensor(name);
        Shape shape = new Shape(info.shape());
        try (NDManager staging = manager.newSubManager(Device.cpu())) {
            NDArray stored = switch (info.dtype()) {
                case F32 -> wrap(staging, file.map(name), shape, DataType.FLOAT32);
                case F16 -> wrap(staging, file.map(name), shape, DataType.FLOAT16);
                case BF16 -> widenBf16(staging, file.map(name), shape);
                default -> throw new LayerscopeException(file.path() + ": tensor " + name + " has dtype " + info.dtype()
                        + "; layerscope loads BF16, F16 and F32 weights (convert the checkpoint with torch first)");
            };
            // On the CPU in the stored type this is `stored` itself (for F32, the mapped bytes).
            NDArray result = cast(stored.toDevice(manager.getDevice(), false), compute);
            result.attach(manager);
            return result;
        }
    }

    /** bf16 bytes widened to float32 (bits << 16) directly in the native memory of a new CPU tensor. */
    static NDArray widenBf16(NDManager cpu, ByteBuffer littleEndianBf16, Shape shape) {
        NDArray out = empty(cpu, shape, DataType.FLOAT32);
        // toByteBuffer(true) on a contiguous CPU tensor is a direct view of its storage (native order).
        IntBuffer dst = out.toByteBuffer(true).asIntBuffer();
        ShortBuffer src = littleEndianBf16.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        if (src.remaining() != dst.remaining()) {
            throw new IllegalStateException("bf16 source holds " + src.remaining() + " values, target " + dst.remaining());
        }
        short[] in = new short[Math.min(WIDEN_CHUNK, src.remaining())];
        int[] bits = new int[in.length];
        while (src.hasRemaining()) {
            int n = Math.min(in.length, src.remaining());
            src.get(in, 0, n);
            for (int i = 0; i < n; i++) {
                bits[i] = (in[i] & 0xffff) << 16;
            }
            dst.put(bits, 0, n);
        }
        return out;
    }
}
