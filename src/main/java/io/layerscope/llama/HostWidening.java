package io.layerscope.llama;

import io.layerscope.LayerscopeException;
import io.layerscope.model.DType;
import io.layerscope.model.HalfFloats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Widens stored tensor bytes (little-endian BF16, F16 or F32: a buffer, or a region of a
 * safetensors file read by positional reads) into float32 memory (a direct view of a CPU tensor's
 * storage), in chunks spread over a few threads. Each element is widened exactly and independently,
 * so the floats are the ones {@link HalfFloats} decodes whatever the thread count. The source is read
 * once, and nothing passes through Java arrays.
 *
 * <pre>{@code
 * try (HostWidening w = new HostWidening(2)) {
 *     w.fill(channel, tensor.begin(), DType.BF16, weight.toByteBuffer(true), "model.safetensors: q_proj");
 * }
 * }</pre>
 */
final class HostWidening implements AutoCloseable {
    /** Elements per task: a multiple of 4, large enough to hide a task's cost, small enough to balance. */
    static final int CHUNK = 1 << 20;

    private final int threads;
    private final ExecutorService pool;

    HostWidening(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads " + threads + " must be at least 1");
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads, io.layerscope.DaemonThreads.named("weight-widening"));
    }

    int threads() {
        return threads;
    }

    /**
     * Fills {@code dst} (float32, little-endian, from its index 0) with as many elements as it holds,
     * stored as {@code dtype} from byte {@code position} of {@code file}, by positional reads: a chunk
     * at a time into a buffer of the thread's own, widened from there (float32 is read straight into
     * {@code dst}). Unlike a memory map, the reads leave no page of the file in the process, and a
     * first pass costs no page faults.
     *
     * @param what names the bytes in an error (e.g. the file and the tensor)
     * @throws LayerscopeException when the file cannot be read or ends before the elements do
     */
    void fill(FileChannel file, long position, DType dtype, ByteBuffer dst, String what) {
        checkLoadable(dtype);
        int count = dst.capacity() / Float.BYTES;
        if ((long) count * Float.BYTES != dst.capacity()) {
            throw new IllegalStateException("target holds " + dst.capacity() + " bytes, not whole float32 values");
        }
        ByteBuffer out = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        inChunks(count, (lo, hi) -> {
            int n = hi - lo;
            ByteBuffer to = out.slice(Float.BYTES * lo, Float.BYTES * n).order(ByteOrder.LITTLE_ENDIAN);
            if (dtype == DType.F32) {
                read(file, position + (long) Float.BYTES * lo, to, what);
                return;
            }
            ByteBuffer stage = STAGING.get();
            stage.clear().limit(n * dtype.bytes());
            read(file, position + (long) dtype.bytes() * lo, stage, what);
            widen(stage, dtype, to, 0, n);
        });
    }

    /** Each thread's buffer for a chunk of stored 16-bit values. */
    private static final ThreadLocal<ByteBuffer> STAGING =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(2 * CHUNK).order(ByteOrder.LITTLE_ENDIAN));

    private static void read(FileChannel file, long position, ByteBuffer into, String what) {
        try {
            for (long at = position; into.hasRemaining(); ) {
                int n = file.read(into, at);
                if (n < 0) {
                    throw new LayerscopeException(what + " ends before its data does (the file was cut short)");
                }
                at += n;
            }
        } catch (IOException e) {
            throw new LayerscopeException("cannot read " + what + " (" + e.getMessage() + ")", e);
        }
    }

    private static void checkLoadable(DType dtype) {
        if (!dtype.isLoadable()) {
            throw new IllegalArgumentException("not a stored weight type: " + dtype);
        }
    }

    /** A range of elements {@code [lo, hi)} to widen. */
    private interface Chunk {
        void run(int lo, int hi);
    }

    /** {@code [0, count)} in chunks over the pool, or here when there is one thread or one chunk; returns when all are done. */
    private void inChunks(int count, Chunk chunk) {
        if (pool == null || count <= CHUNK) {
            for (int from = 0; from < count; from += CHUNK) {
                chunk.run(from, Math.min(count, from + CHUNK));
            }
            return;
        }
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int from = 0; from < count; from += CHUNK) {
            int lo = from;
            int hi = Math.min(count, from + CHUNK);
            tasks.add(() -> {
                chunk.run(lo, hi);
                return null;
            });
        }
        try {
            for (Future<Void> f : pool.invokeAll(tasks)) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LayerscopeException("interrupted while loading weights", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        }
    }

    /** Elements {@code [from, to)}; absolute indexing only, so threads may share the buffers. */
    static void widen(ByteBuffer src, DType dtype, ByteBuffer dst, int from, int to) {
        switch (dtype) {
            case BF16 -> widenBf16(src, dst, from, to);
            case F16 -> {
                for (int i = from; i < to; i++) {
                    dst.putFloat(4 * i, HalfFloats.f16ToFloat(src.getShort(2 * i)));
                }
            }
            case F32 -> dst.put(4 * from, src, 4 * from, 4 * (to - from));
            default -> throw new IllegalArgumentException("not a stored weight type: " + dtype);
        }
    }

    /**
     * A bf16 value is the top half of a float32: each one moves 16 bits up. Four values per 8-byte
     * read and two 8-byte writes (both buffers little-endian: value k sits at bits 16k..16k+15 of
     * the read, and float k at bits 32k..32k+31 of the write).
     */
    private static void widenBf16(ByteBuffer src, ByteBuffer dst, int from, int to) {
        int i = from;
        for (; i + 4 <= to; i += 4) {
            long four = src.getLong(2 * i);
            dst.putLong(4 * i, (four & 0xffffL) << 16 | (four & 0xffff0000L) << 32);
            dst.putLong(4 * i + 8, (four >>> 16) & 0xffff0000L | four & 0xffff000000000000L);
        }
        for (; i < to; i++) {
            dst.putInt(4 * i, (src.getShort(2 * i) & 0xffff) << 16);
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
