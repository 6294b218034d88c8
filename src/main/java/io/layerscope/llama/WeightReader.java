package io.layerscope.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.LayerscopeException;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.HalfFloats;
import io.layerscope.model.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a checkpoint's tensors onto one device in the compute type, for one model load. Every
 * tensor is read once, exactly (bf16 and f16 widen to float32 without rounding), and a weight is
 * allocated once in its final layout, parts of a stacked weight included. Two routes:
 * <ul>
 * <li>CPU, float32: the weight's memory is advised for huge pages ({@link HugePages}) and filled
 *     by {@link HostWidening} on the load's threads from positional reads of the file. A lone F32
 *     tensor wraps its memory-mapped bytes without any copy.</li>
 * <li>otherwise (a GPU, or float16 compute): the stored bytes go to the device as they are and are
 *     widened there, so no float32 copy of a weight ever exists on the host. DJL's PyTorch engine
 *     holds no bfloat16 (nor 16-bit integers), so bf16 travels as raw bytes and becomes float32
 *     through a table of the float every bit pattern stands for (indexed by low + 256 x high byte);
 *     f16 and f32 are cast.</li>
 * </ul>
 *
 * <pre>{@code
 * WeightReader.Options options = WeightReader.optionsFor(Device.cpu(), DataType.FLOAT32);
 * try (WeightReader weights = new WeightReader(manager, ckpt, DataType.FLOAT32, options)) {
 *     NDArray qkv = weights.stacked("...q_proj.weight", "...k_proj.weight", "...v_proj.weight");
 * }
 * }</pre>
 */
final class WeightReader implements AutoCloseable {
    /**
     * How the load runs: the host route's threads and huge-page hint; {@code onDevice} takes the
     * device route even on the CPU; at most {@code blockElements} elements per step (a host fill's
     * buffer must stay under 2 GiB, a device step's index arrays small).
     */
    record Options(int threads, boolean hugePages, boolean onDevice, long blockElements) {
        Options {
            if (threads < 1 || blockElements < 1) {
                throw new IllegalArgumentException("threads " + threads + " and block elements " + blockElements
                        + " must be at least 1");
            }
        }

        Options withThreads(int n) {
            return new Options(n, hugePages, onDevice, blockElements);
        }

        Options withHugePages(boolean on) {
            return new Options(threads, on, onDevice, blockElements);
        }
    }

    private final NDManager manager;
    private final Checkpoint ckpt;
    private final DataType compute;
    private final boolean onHost;
    private final boolean hugePages;
    private final long blockElements;
    private final HostWidening widening;
    /** The device route's bf16 table and byte place values, made on first use. */
    private NDManager tables;
    private NDArray bf16Floats;
    private NDArray bytePlaces;
    /** The host route's open weight files, by path, for positional reads; closed with the reader. */
    private final Map<Path, FileChannel> files = new ConcurrentHashMap<>();

    WeightReader(NDManager manager, Checkpoint ckpt, DataType compute, Options options) {
        this.manager = manager;
        this.ckpt = ckpt;
        this.compute = DeviceArrays.checked(compute);
        this.onHost = !options.onDevice() && !manager.getDevice().isGpu() && compute == DataType.FLOAT32;
        if (!options.onDevice() && !onHost) {
            throw new IllegalArgumentException("the host route fills float32 CPU memory, not " + compute + " on "
                    + manager.getDevice());
        }
        this.hugePages = options.hugePages();
        this.blockElements = options.blockElements();
        this.widening = onHost ? new HostWidening(options.threads()) : null;
    }

    /**
     * What {@link LlamaModel#load} uses: as many threads as libtorch's intra-op pool (the task's
     * cores under Spark), the huge-page hint, the host route where it applies; 1 GiB of float32 per
     * host fill, 16M elements per device step.
     */
    static Options optionsFor(Device device, DataType compute) {
        int threads = Integer.getInteger("ai.djl.pytorch.num_threads", 0);
        boolean onDevice = device.isGpu() || compute != DataType.FLOAT32;
        return new Options(threads > 0 ? threads : Runtime.getRuntime().availableProcessors(), true, onDevice,
                onDevice ? 1L << 24 : 1L << 28);
    }

    /** Whether this reader fills float32 CPU memory itself (the host route). */
    boolean widensOnHost() {
        return onHost;
    }

    /** One tensor, in {@code manager}. */
    NDArray weight(String name) {
        return stacked(name);
    }

    /** The tensors stacked along axis 0 (their rows), in {@code manager}; their other dimensions must agree. */
    NDArray stacked(String... names) {
        TensorInfo[] parts = parts(names);
        Shape shape = stackedShape(parts);
        if (onHost && parts.length == 1 && parts[0].dtype() == DType.F32 && parts[0].byteLength() <= Integer.MAX_VALUE) {
            // the mapped bytes are the float32 weight already
            return DeviceArrays.wrap(manager, ckpt.fileOf(names[0]).map(names[0]), shape, DataType.FLOAT32);
        }
        NDArray out = DeviceArrays.empty(manager, shape, onHost ? DataType.FLOAT32 : compute);
        try {
            fill(out, parts);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /** The shape of {@link #stacked} of {@code names}: for arrays that {@link #refill} fills again and again. */
    Shape stackedShape(String... names) {
        return stackedShape(parts(names));
    }

    /**
     * Writes the tensors stacked along axis 0 into {@code out}, a float32 CPU array of their
     * {@link #stackedShape} (host route only): a weight read again into memory already in use, for
     * blocks widened each time a pass reaches them ({@link BlockSource}).
     */
    void refill(NDArray out, String... names) {
        TensorInfo[] parts = parts(names);
        Shape shape = stackedShape(parts);
        if (!onHost || !out.getShape().equals(shape) || out.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("cannot refill " + out.getDataType() + " " + out.getShape() + " with "
                    + Arrays.toString(names) + " (" + shape + ")" + (onHost ? "" : " off the host route"));
        }
        fill(out, parts);
    }

    private TensorInfo[] parts(String... names) {
        TensorInfo[] parts = new TensorInfo[names.length];
        for (int i = 0; i < names.length; i++) {
            parts[i] = ckpt.tensor(names[i]);
            Checkpoint.requireLoadable(ckpt.fileOf(names[i]).path(), parts[i]);
            long[] s = parts[i].shape();
            if (s.length == 0 || !Arrays.equals(tail(s), tail(parts[0].shape()))) {
                throw new IllegalArgumentException("cannot stack " + Arrays.toString(names) + ": shapes "
                        + parts[0].shapeString() + " and " + parts[i].shapeString());
            }
        }
        return parts;
    }

    private static Shape stackedShape(TensorInfo[] parts) {
        long[] shape = parts[0].shape().clone();
        shape[0] = 0;
        for (TensorInfo part : parts) {
            shape[0] += part.shape()[0];
        }
        return new Shape(shape);
    }

    private void fill(NDArray out, TensorInfo[] parts) {
        long row = 0;
        for (TensorInfo part : parts) {
            if (part.shape()[0] == 0) {
                continue;
            }
            long rowElements = part.numel() / part.shape()[0];
            int blockRows = (int) Math.max(1, Math.min(part.shape()[0], blockElements / Math.max(1, rowElements)));
            for (long first = 0; first < part.shape()[0]; first += blockRows) {
                int n = (int) Math.min(blockRows, part.shape()[0] - first);
                if (onHost) {
                    fillOnHost(out, row + first, part, first, n);
                } else {
                    fillOnDevice(out, row + first, part, first, n);
                }
            }
            row += part.shape()[0];
        }
    }

    /** Rows {@code [first, first + n)} of {@code part} into rows from {@code at} of {@code out}, through a view. */
    private void fillOnHost(NDArray out, long at, TensorInfo part, long first, int n) {
        try (NDManager views = manager.newSubManager()) {
            NDArray rows = out.get(views, new NDIndex("{}:{}", at, at + n));
            // a contiguous CPU tensor's direct buffer is a view of its storage, not a copy
            ByteBuffer dst = rows.toByteBuffer(true);
            if (hugePages) {
                HugePages.advise(dst);
            }
            Path file = ckpt.fileOf(part.name()).path();
            long rowBytes = part.byteLength() / part.shape()[0];
            widening.fill(channel(file), part.begin() + first * rowBytes, part.dtype(), dst,
                    file + ": tensor " + part.name());
        }
    }

    /**
     * The file opened once for the reader's life: positional reads leave none of its pages in the
     * process (a kept memory map held every page a pass touched resident), and cost no page faults.
     */
    private FileChannel channel(Path file) {
        return files.computeIfAbsent(file, f -> {
            try {
                return FileChannel.open(f, StandardOpenOption.READ);
            } catch (IOException e) {
                throw new LayerscopeException("cannot open " + f + " (" + e.getMessage() + ")", e);
            }
        });
    }

    private void fillOnDevice(NDArray out, long at, TensorInfo part, long first, int n) {
        ByteBuffer bytes = ckpt.fileOf(part.name()).mapRows(part.name(), first, n);
        long[] shape = part.shape().clone();
        shape[0] = n;
        try (NDManager step = manager.newSubManager()) {
            // on a GPU, creating from the mapped bytes copies them to the device; on the CPU it wraps them
            NDArray floats = switch (part.dtype()) {
                case F32 -> DeviceArrays.wrap(step, bytes, new Shape(shape), DataType.FLOAT32);
                case F16 -> DeviceArrays.wrap(step, bytes, new Shape(shape), DataType.FLOAT16);
                case BF16 -> bf16OnDevice(step, bytes, new Shape(shape));
                default -> throw new IllegalStateException(part.dtype().name());
            };
            out.set(new NDIndex("{}:{}", at, at + n), DeviceArrays.cast(floats, compute));
        }
    }

    /** bf16 bytes to float32 on {@code step}'s device: each value looked up by its bit pattern (exact, NaN payloads too). */
    private NDArray bf16OnDevice(NDManager step, ByteBuffer littleEndianBf16, Shape shape) {
        if (tables == null) {
            tables = manager.newSubManager();
            float[] all = new float[1 << 16];
            for (int bits = 0; bits < all.length; bits++) {
                all[bits] = HalfFloats.bf16ToFloat((short) bits);
            }
            bf16Floats = DeviceArrays.floats(tables, all, new Shape(all.length));
            bytePlaces = DeviceArrays.ints(tables, new int[] {1, 256}, new Shape(1, 2));
        }
        NDArray bytes = DeviceArrays.wrap(step, littleEndianBf16, new Shape(shape.size(), 2), DataType.UINT8);
        // low byte + 256 x high byte: the bit pattern, summed as int64 (torch widens integer sums)
        NDArray patterns = DeviceArrays.cast(bytes, DataType.INT32).mul(bytePlaces).sum(new int[] {1});
        return bf16Floats.take(step, patterns).reshape(shape);
    }

    private static long[] tail(long[] shape) {
        return shape.length == 0 ? shape : Arrays.copyOfRange(shape, 1, shape.length);
    }

    @Override
    public void close() {
        for (FileChannel f : files.values()) {
            try {
                f.close();
            } catch (IOException e) {
                // read-only: nothing is lost
            }
        }
        if (widening != null) {
            widening.close();
        }
        if (tables != null) {
            tables.close();
        }
    }
}
