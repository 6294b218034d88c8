package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Counts what device work costs: the arrays libtorch made (one per operation, so about one kernel
 * launch each on a GPU), the bytes they hold, and a bound on the device memory held at once.
 * Work runs in scopes (sub-managers): a block's scope, and inside it short scopes for the
 * temporaries of one step; a scope's arrays are counted when it is closed, and freed with it.
 * Not thread-safe: one tally per computation.
 */
public final class OpTally {
    private long arrays;
    private long bytes;
    private int depth;
    private long largestOuter;
    private long largestInner;

    /** What a computation cost. {@code peakBytes}: the largest outer scope plus the largest inner one, an upper bound. */
    public record Counts(long arrays, long bytes, long peakBytes) {
    }

    /** A new scope under {@code parent}, to be passed to {@link #close} before it is closed. */
    NDManager open(NDManager parent) {
        depth++;
        return parent.newSubManager();
    }

    /** Counts the arrays {@code scope} holds (its own, not its sub-scopes', which were counted when closed). */
    void close(NDManager scope) {
        long scopeBytes = 0;
        long scopeArrays = 0;
        for (NDArray a : scope.getManagedArrays()) {
            scopeArrays++;
            scopeBytes += a.getShape().size() * a.getDataType().getNumOfBytes();
        }
        arrays += scopeArrays;
        bytes += scopeBytes;
        if (depth == 1) {
            largestOuter = Math.max(largestOuter, scopeBytes);
        } else {
            largestInner = Math.max(largestInner, scopeBytes);
        }
        depth--;
    }

    Counts counts() {
        return new Counts(arrays, bytes, largestOuter + largestInner);
    }
}
