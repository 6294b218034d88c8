package io.layerscope.stats;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One part per thread that works on a pass, for whole-number counters (bucket counts, low-bit
 * counts): they add up to the same totals in any order, so unlike double sums they need not be
 * kept per chunk and merged in chunk order. A thread reuses its part for every chunk it computes,
 * which saves allocating, zeroing and merging large counter arrays per chunk.
 */
final class PerThreadParts<P> {
    private final Supplier<P> create;
    private final Map<Thread, P> parts = new ConcurrentHashMap<>();

    PerThreadParts(Supplier<P> create) {
        this.create = create;
    }

    /** The calling thread's part, made on its first call. */
    P get() {
        return parts.computeIfAbsent(Thread.currentThread(), t -> create.get());
    }

    /** Hands every part made to {@code merge}, once the pass is over. */
    void forEach(Consumer<P> merge) {
        List<P> all = new ArrayList<>(parts.values());
        parts.clear();
        all.forEach(merge);
    }
}
