package io.layerscope.llama;

import io.layerscope.stats.GramSums;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The host arrays of the Gram passes' sums, reused from pass to pass within one JVM. A pass's sums
 * take hundreds of MiB; allocated anew each pass they start in the young generation, and the
 * parallel collector copies them out of it while the pass still adds into them: a JFR of a local
 * 1B-shaped sweep showed single collections of seconds in the middle of passes (docs/PERFORMANCE.md). A reused array has
 * been copied once and stays where it is.
 *
 * <p>Arrays come back through {@link #recycle} once nothing reads them. In local mode the driver
 * does that when a pass's layers are done (the passes and the layers' tasks run in its JVM); a
 * cluster's executors never get their arrays back, as they leave as task results, and allocate as
 * before. At most one pass's arrays wait, and {@link #clear} drops them when the passes end.
 */
public final class GramArrays {
    private static final Map<Integer, Deque<double[]>> FREE = new HashMap<>();
    private static final AtomicLong REUSED = new AtomicLong();
    /** Whether a pass took host arrays since the last {@link #recycle} (a GPU's passes sum on the device). */
    private static boolean taken;

    private GramArrays() {
    }

    /** A zeroed array of {@code length} doubles: a recycled one if there is one. */
    static double[] zeroed(int length) {
        double[] reused;
        synchronized (FREE) {
            taken = true;
            Deque<double[]> free = FREE.get(length);
            reused = free == null ? null : free.poll();
        }
        if (reused == null) {
            return new double[length];
        }
        REUSED.incrementAndGet();
        Arrays.fill(reused, 0);
        return reused;
    }

    /**
     * Hands the arrays of {@code sums} back for the next pass; the caller must not read them again.
     * They replace what the pass just run left untaken, so at most one pass's arrays wait; and none
     * do if that pass took no host arrays (its sums were on a GPU and will be again).
     */
    public static void recycle(GramSums sums) {
        synchronized (FREE) {
            FREE.clear();
            if (!taken) {
                return;
            }
            taken = false;
            for (String key : sums.keys()) {
                double[] g = sums.matrix(key);
                FREE.computeIfAbsent(g.length, n -> new ArrayDeque<>()).push(g);
            }
        }
    }

    /** Drops every array waiting for reuse. */
    public static void clear() {
        synchronized (FREE) {
            FREE.clear();
            taken = false;
        }
    }

    /** Arrays handed out again so far in this JVM (tests). */
    public static long reused() {
        return REUSED.get();
    }

    /** Arrays waiting for reuse (tests). */
    public static int waiting() {
        synchronized (FREE) {
            return FREE.values().stream().mapToInt(Deque::size).sum();
        }
    }
}
