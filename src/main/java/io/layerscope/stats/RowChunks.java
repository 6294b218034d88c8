package io.layerscope.stats;

import java.util.ArrayDeque;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Consumer;

/**
 * A layer's rows cut into chunks of a fixed number of rows, and passes over them: each chunk is
 * computed into a part of its own (on a pool, or on the calling thread), and the parts are merged
 * on the calling thread in chunk order. The chunks depend only on the layer's shape, so the merged
 * result (double sums included) is the same bits whatever the number of threads.
 *
 * <p>Memory: at most as many parts as the pool has threads are in flight (submitted and not yet
 * merged); the next chunk is submitted when the oldest part has been merged.
 */
public final class RowChunks {
    /** About this many weight entries per chunk: large enough that merging a part costs little beside computing it. */
    public static final int ENTRIES_PER_CHUNK = 1 << 20;

    /** Computes the part of rows {@code [from, to)}. */
    public interface Pass<P> {
        P compute(int from, int to);
    }

    private final int rows;
    private final int rowsPerChunk;
    private final ForkJoinPool pool;

    /**
     * @param pool where chunks run, or null for the calling thread
     */
    public RowChunks(int rows, int rowsPerChunk, ForkJoinPool pool) {
        if (rows <= 0 || rowsPerChunk <= 0) {
            throw new IllegalArgumentException("need rows > 0 and rowsPerChunk > 0, got " + rows + ", " + rowsPerChunk);
        }
        this.rows = rows;
        this.rowsPerChunk = rowsPerChunk;
        this.pool = pool;
    }

    /** Rows per chunk for rows of {@code columns} entries: about {@link #ENTRIES_PER_CHUNK} entries, at least one row. */
    public static int rowsPerChunk(int columns) {
        return Math.max(1, ENTRIES_PER_CHUNK / Math.max(1, columns));
    }

    int chunks() {
        return (int) (((long) rows + rowsPerChunk - 1) / rowsPerChunk);
    }

    /**
     * Computes every chunk's part with {@code pass} and hands the parts to {@code merge} in chunk
     * order, on the calling thread. If chunks fail, the failure of the first failing chunk in order
     * is thrown (as a sequential loop would), after the chunks before it were merged.
     */
    public <P> void run(Pass<P> pass, Consumer<P> merge) {
        int chunks = chunks();
        if (pool == null) {
            for (int c = 0; c < chunks; c++) {
                merge.accept(pass.compute(from(c), to(c)));
            }
            return;
        }
        int window = Math.max(1, pool.getParallelism());
        ArrayDeque<CompletableFuture<P>> inFlight = new ArrayDeque<>();
        int next = 0;
        try {
            for (int c = 0; c < chunks; c++) {
                for (; next < chunks && next < c + window; next++) {
                    int from = from(next);
                    int to = to(next);
                    inFlight.add(CompletableFuture.supplyAsync(() -> pass.compute(from, to), pool));
                }
                merge.accept(await(inFlight.poll()));
            }
        } finally {
            inFlight.forEach(task -> task.cancel(false));
        }
    }

    private int from(int chunk) {
        return chunk * rowsPerChunk;
    }

    private int to(int chunk) {
        return (int) Math.min(rows, (long) (chunk + 1) * rowsPerChunk);
    }

    /**
     * The task's part, or the very exception the pass threw (a ForkJoinTask would hand back a
     * copy made by reflection, whose message is the original's toString()).
     */
    private static <P> P await(CompletableFuture<P> task) {
        try {
            return task.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for a chunk of rows");
        }
    }
}
