package io.layerscope.llama;

import io.layerscope.LayerscopeException;
import io.layerscope.model.DType;
import io.layerscope.model.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Widens stored tensor bytes (little-endian BF16, F16 or F32, e.g. a memory-mapped safetensors
 * region) into float32 memory (a direct view of a CPU tensor's storage), in chunks spread over a
 * few threads. Each element is widened exactly and independently, so the floats are the ones
 * {@link HalfFloats} decodes whatever the thread count. The source is read once, and nothing passes
 * through Java arrays.
 *
 * <pre>{@code
 * try (HostWidening w = new HostWidening(2)) {
 *     w.fill(mappedBf16, DType.BF16, tensor.toByteBuffer(true));
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
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads, daemonThreads());
    }

    int threads() {
        return threads;
    }

    /**
     * Fills {@code dst} (float32, little-endian, from its index 0) with every element of {@code src}
     * (stored as {@code dtype}, little-endian, from its index 0); returns when all are written.
     */
    void fill(ByteBuffer src, DType dtype, ByteBuffer dst) {
        if (!dtype.isLoadable()) {
            throw new IllegalArgumentException("not a stored weight type: " + dtype);
        }
        int count = src.capacity() / dtype.bytes();
        if ((long) count * Float.BYTES != dst.capacity() || count * dtype.bytes() != src.capacity()) {
            throw new IllegalStateException("source holds " + src.capacity() + " bytes of " + dtype + ", target "
                    + dst.capacity() + " bytes of float32");
        }
        ByteBuffer in = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (pool == null || count <= CHUNK) {
            widen(in, dtype, out, 0, count);
            return;
        }
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int from = 0; from < count; from += CHUNK) {
            int lo = from;
            int hi = Math.min(count, from + CHUNK);
            tasks.add(() -> {
                widen(in, dtype, out, lo, hi);
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

    private static ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "layerscope-weight-widening-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
