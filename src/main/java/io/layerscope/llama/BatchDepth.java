package io.layerscope.llama;

/**
 * What feeds the depth statistics from the forward pass of one batch after another: on the host
 * ({@link DepthAccumulator}) or on the device ({@link DeviceDepthAccumulator}).
 */
interface BatchDepth extends TapSink {
    /** The next batch's global sample indices, in batch order, each window {@code tokens} long. */
    void beginBatch(int[] samples, int tokens);

    /** Adds what is kept across blocks and forgets the batch. */
    void endBatch();

    /** Nanoseconds spent in this accumulator's calls so far, for benchmarks. */
    long nanos();
}
