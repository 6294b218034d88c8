package io.layerscope.llama;

import io.layerscope.model.Tap;

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

    /**
     * A sink for sequential mode's dense pass of a round over a batch begun with {@link #beginBatch}:
     * down_proj's spikes and the taps' |x| >= 6 counts of the block, as the round's masks see them,
     * the positions reached marked in {@code marks} (carried to the next round; the residual stream
     * comes from the pruned pass instead).
     */
    TapSink denseRound(io.layerscope.stats.OutlierPositions marks);

    /** Every block's taps; the final norm's is no block's. */
    @Override
    default boolean wants(String tapKey) {
        return !tapKey.equals(Tap.FINAL_NORM.key(-1));
    }

    /** The block of a tap key "block/TAP". */
    static int blockOf(String tapKey) {
        return Integer.parseInt(tapKey.substring(0, tapKey.indexOf('/')));
    }

    /**
     * The peak at row-major {@code index} of a batch's [sequences, tokens, features] array, the
     * sequences being calibration samples {@code samples}.
     */
    static io.layerscope.stats.Peak peakAt(int[] samples, int tokens, long index, float value, long features) {
        int channel = (int) (index % features);
        long row = index / features;
        return new io.layerscope.stats.Peak(value, samples[(int) (row / tokens)], (int) (row % tokens), channel);
    }

    /** The tap kind of a tap key "block/TAP". */
    static Tap tapOf(String tapKey) {
        return Tap.valueOf(tapKey.substring(tapKey.indexOf('/') + 1));
    }
}
