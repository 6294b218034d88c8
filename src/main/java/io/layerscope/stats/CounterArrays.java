package io.layerscope.stats;

import java.lang.ref.SoftReference;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counter arrays of 64K ints (one counter per 16-bit pattern: a float's top or low 16 bits),
 * handed out zeroed and given back when their counts have been read, so that the next layer's
 * statistics reuse them. A layer takes several dozen (about 17 MB), most of them only to merge
 * parts into; allocating them afresh per layer costs zeroing, garbage collections and, on fresh
 * heap memory, a page fault per 4 KB, which for the many small layers is a fair share of their
 * time. Arrays move between threads (a part counted on a pool thread is merged on the caller), so
 * the free list is shared. It keeps at most {@link #KEPT} arrays, softly: the collector may take
 * them back when memory runs short.
 *
 * <p>Whoever gives an array back must hold no other reference to it that is still read.
 */
final class CounterArrays {
    /** The length of every counter array. */
    static final int LENGTH = 1 << 16;
    /** At most this many free arrays are kept (64 MB): a few layers' worth, on a few threads. */
    static final int KEPT = 256;

    private static final ConcurrentLinkedDeque<SoftReference<int[]>> FREE = new ConcurrentLinkedDeque<>();
    private static final AtomicInteger FREE_COUNT = new AtomicInteger();

    private CounterArrays() {
    }

    /** A zeroed array of {@link #LENGTH} ints: a free one if there is one, else a new one. */
    static int[] take() {
        for (SoftReference<int[]> ref; (ref = FREE.pollFirst()) != null; ) {
            FREE_COUNT.decrementAndGet();
            int[] counters = ref.get();
            if (counters != null) {
                Arrays.fill(counters, 0);
                return counters;
            }
        }
        return new int[LENGTH];
    }

    /** Gives {@code counters} (from {@link #take}) back for reuse; the caller must not use it again. */
    static void giveBack(int[] counters) {
        if (counters.length != LENGTH) {
            throw new IllegalArgumentException("a counter array has " + LENGTH + " ints, not " + counters.length);
        }
        if (FREE_COUNT.incrementAndGet() <= KEPT) {
            FREE.addFirst(new SoftReference<>(counters));
        } else {
            FREE_COUNT.decrementAndGet();
        }
    }
}
