package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;

/**
 * The one place where the llama package creates or casts NDArrays. Every path goes through
 * {@link #checked(DataType)}, which refuses {@link DataType#BFLOAT16} (and the 16-bit integers and
 * wider unsigned ones) with an exception: DJL's PyTorch engine aborts the whole JVM (no Java
 * exception) on such an array, so a bf16 weight is widened to float32 (exact: bf16 is the top half
 * of a float32) before DJL sees it, or travels as raw bytes ({@link WeightReader}).
 */
final class DeviceArrays {
    private DeviceArrays() {
    }

    /** Passes any type DJL can hold; refuses bfloat16 and the integer types libtorch's JNI lacks before they reach DJL. */
    static DataType checked(DataType type) {
        if (type == DataType.BFLOAT16) {
            throw new IllegalArgumentException("refusing to create a bfloat16 NDArray: DJL's PyTorch engine aborts the JVM on"
                    + " bfloat16, so bf16 data must be widened to float32 (or cast to float16) first; this is a bug in"
                    + " layerscope, please report it");
        }
        if (type == DataType.INT16 || type == DataType.UINT16 || type == DataType.UINT32 || type == DataType.UINT64) {
            throw new IllegalArgumentException("refusing to create a " + type + " NDArray: DJL's PyTorch engine aborts the JVM on"
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

    static NDArray doubles(NDManager manager, double[] values, Shape shape) {
        return manager.create(values, shape);
    }

    /**
     * Rows {@code [rowFrom, rowTo)} and columns {@code [colFrom, colTo)} of {@code values}, a row-major
     * matrix of {@code columns} columns, as a new contiguous array, copied a row segment at a time.
     * One copy of a heap array into native memory is one call in which the JVM cannot stop at a
     * safepoint, so every Java thread that reaches one waits for the whole copy (seconds, for a Gram
     * matrix of hundreds of MiB going into fresh memory, docs/PERFORMANCE.md); between segments it
     * can stop. On the CPU the rows go straight into libtorch's uninitialised storage,
     * not through a direct buffer the JDK zeroes first.
     */
    static NDArray doublesBlock(NDManager manager, double[] values, int columns, int rowFrom, int rowTo, int colFrom,
                                int colTo) {
        int rows = rowTo - rowFrom;
        int width = colTo - colFrom;
        Shape shape = new Shape(rows, width);
        if (manager.getDevice().isGpu()) {
            ByteBuffer bytes = ByteBuffer.allocateDirect(Math.multiplyExact(Math.multiplyExact(rows, width), Double.BYTES))
                    .order(ByteOrder.nativeOrder());
            putRows(bytes.asDoubleBuffer(), values, columns, rowFrom, rowTo, colFrom, width);
            return wrap(manager, bytes, shape, DataType.FLOAT64);
        }
        NDArray out = empty(manager, shape, DataType.FLOAT64);
        // a contiguous CPU tensor's toByteBuffer(true) is a direct view of its storage
        putRows(out.toByteBuffer(true).order(ByteOrder.nativeOrder()).asDoubleBuffer(), values, columns, rowFrom, rowTo,
                colFrom, width);
        return out;
    }

    private static void putRows(DoubleBuffer into, double[] values, int columns, int rowFrom, int rowTo, int colFrom,
                                int width) {
        for (int r = rowFrom; r < rowTo; r++) {
            into.put(values, r * columns + colFrom, width);
        }
    }

    /** A new CPU array holding a copy of {@code bytes} (native byte order, row-major) in {@code type}. */
    static NDArray fromBytes(NDManager cpu, byte[] bytes, Shape shape, DataType type) {
        NDArray out = empty(cpu, shape, type);
        // a contiguous CPU tensor's toByteBuffer(true) is a direct view of its storage
        out.toByteBuffer(true).put(bytes);
        return out;
    }

    static NDArray ints(NDManager manager, int[] values, Shape shape) {
        return manager.create(values, shape);
    }

    static NDArray longs(NDManager manager, long[] values, Shape shape) {
        return manager.create(values, shape);
    }

    /**
     * {@code array}'s values as float32 on the host, row-major, written into {@code reuse} when it has
     * the length (else into a new array). One copy out of a view of the tensor's storage, where
     * {@link NDArray#toFloatArray()} copies twice through a new byte[] (a garbage-collected half
     * megabyte per hidden state of one sequence).
     */
    static float[] toHost(NDArray array, float[] reuse) {
        NDArray f = cast(array, DataType.FLOAT32);
        int n = Math.toIntExact(f.size());
        float[] out = reuse != null && reuse.length == n ? reuse : new float[n];
        // a CPU tensor's toByteBuffer(true) is a direct view of its storage (made contiguous first
        // if it is not; on a GPU, a copy to the host)
        f.toByteBuffer(true).asFloatBuffer().get(out);
        return out;
    }

    /** As {@link #toHost}, the float32 values' bit patterns ({@link Float#floatToRawIntBits}). */
    static int[] toHostBits(NDArray array, int[] reuse) {
        NDArray f = cast(array, DataType.FLOAT32);
        int n = Math.toIntExact(f.size());
        int[] out = reuse != null && reuse.length == n ? reuse : new int[n];
        f.toByteBuffer(true).asIntBuffer().get(out);
        return out;
    }

    /** A new array holding {@code array}'s values in {@code type}, even when it has that type already. */
    static NDArray copy(NDArray array, DataType type) {
        return array.toType(checked(type), true);
    }

    /** {@code array} in {@code type}; the array itself when it already has that type. */
    static NDArray cast(NDArray array, DataType type) {
        return array.toType(checked(type), false);
    }
}
