package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import io.layerscope.model.Tap;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.OutlierPositions;
import io.layerscope.stats.Peak;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * Feeds a {@link DepthSums} from a forward pass. Each tensor it needs is copied to the host once,
 * into buffers reused from block to block and batch to batch, and scanned in Java: block influence,
 * last-token distances and massive activations from the residual stream around each block (each
 * block's output serving as the next block's input); the |x| >= 6 counts from the four taps
 * ({@link OutlierMarks}); down_proj's largest input from the MLP_ACT tap's bits and its largest
 * output from its own. Use one accumulator for every batch of a pass.
 *
 * <p>Why the host: on the CPU a copy out of the tensor's storage costs a memcpy, while every device
 * reduction costs a fixed JNI and dispatch overhead, and libtorch's per-channel maximum (which also
 * computes the argmax) and flat argmax are several times slower than a vectorized pass in Java. On a
 * GPU, where every copy is a transfer, {@link DeviceDepthAccumulator} runs instead.
 */
final class DepthAccumulator implements BatchDepth {
    private final DepthSums sums;
    private int[] samples;
    private int tokens;
    /**
     * Host buffers of a block's input and output residual stream, reused across blocks and batches,
     * and shared by the accumulators of one call: each is filled and read within one call.
     */
    private final float[][] streams;
    /** Host buffers of the taps and down_proj's output by length (hidden or intermediate size), reused. */
    private final Map<Integer, int[]> buffers;
    /** Per tap kind, over the blocks run so far in this batch: the entries with |x| >= 6 (kept, cleared, across batches). */
    private final Map<Tap, OutlierMarks> anyBlock = new EnumMap<>(Tap.class);
    /** The MLP_ACT tap last scanned (down_proj's input) and its largest |x|, as a row-major index and value. */
    private NDArray actArray;
    private int actBest;
    private float actMax;
    /** Time spent in this accumulator's calls. */
    private long nanos;

    DepthAccumulator(DepthSums sums) {
        this(sums, new HashMap<>(), new float[2][]);
    }

    /**
     * Taking the tap and down_proj buffers from {@code scratch} and the residual streams' from
     * {@code streams} (two), which the accumulators of one thread's batches may share: each buffer is
     * filled and read within one call. What a batch keeps across blocks is its outlier marks.
     */
    DepthAccumulator(DepthSums sums, Map<Integer, int[]> scratch, float[][] streams) {
        this.sums = sums;
        this.buffers = scratch;
        this.streams = streams;
    }

    @Override
    public void beginBatch(int[] samples, int tokens) {
        this.samples = samples.clone();
        this.tokens = tokens;
    }

    @Override
    public TapSink denseRound(OutlierPositions marks) {
        return new TapSink() {
            /** Per tap kind, the block's marks of the batch: a bit per entry, where a tap's host copy takes 32. */
            private final Map<Tap, OutlierMarks> inBlock = new EnumMap<>(Tap.class);

            @Override
            public boolean wants(String tapKey) {
                return DepthAccumulator.this.wants(tapKey);
            }

            @Override
            public void accept(String tapKey, NDArray x) {
                int block = BatchDepth.blockOf(tapKey);
                Tap tap = BatchDepth.tapOf(tapKey);
                int features = (int) x.getShape().get(2);
                // the same host copy and |x| >= 6 test as the dense sweep's taps
                int[] bits = host(x);
                OutlierMarks m = inBlock.get(tap);
                if (m == null || m.size() != bits.length || m.features() != features) {
                    m = new OutlierMarks(bits.length / features, features);
                    inBlock.put(tap, m);
                }
                m.clear();
                sums.outlierBlocks(tap, block, m.mark(bits));
                marks.mark(tap, m.words(), bits.length, features);
            }

            @Override
            public void downProj(int block, NDArray in, NDArray out) {
                DepthAccumulator.this.downProj(block, in, out);
            }
        };
    }

    @Override
    public void endBatch() {
        long start = System.nanoTime();
        try {
            anyBlock.forEach((tap, any) -> {
                sums.outlierAnyBlock(tap, any.counts());
                any.clear();
            });
            sums.outlierTokens((long) samples.length * tokens);
            sums.finishSequences();
            actArray = null;
        } finally {
            nanos += System.nanoTime() - start;
        }
    }

    /** Nanoseconds spent in this accumulator's calls so far (copies and scans), for benchmarks. */
    @Override
    public long nanos() {
        return nanos;
    }

    @Override
    public void accept(String tapKey, NDArray x) {
        long start = System.nanoTime();
        try {
            int block = BatchDepth.blockOf(tapKey);
            Tap tap = BatchDepth.tapOf(tapKey);
            int features = (int) x.getShape().get(2);
            int[] bits = host(x);
            OutlierMarks any = anyBlock.get(tap);
            if (any == null || any.size() != bits.length || any.features() != features) {
                // first batch, or one of another shape (endBatch has counted and cleared the last one)
                any = new OutlierMarks(bits.length / features, features);
                anyBlock.put(tap, any);
            }
            long[] firstMarked = new long[features];
            sums.outlierBlocks(tap, block, any.mark(bits, firstMarked));
            sums.outlierFirstBlock(tap, block, firstMarked);
            if (tap == Tap.MLP_ACT) {
                actArray = x;
                actBest = LargestAbs.firstIndex(bits, features);
                actMax = Float.intBitsToFloat(LargestAbs.absBits(bits[actBest]));
            }
        } finally {
            nanos += System.nanoTime() - start;
        }
    }

    @Override
    public void residual(int block, NDArray in, NDArray out) {
        long start = System.nanoTime();
        try {
            // the input is copied again rather than kept from the block before: batches going through
            // the blocks together would each keep a stream on the host
            streams[0] = DeviceArrays.toHost(in, streams[0]);
            streams[1] = DeviceArrays.toHost(out, streams[1]);
            int hidden = (int) out.getShape().get(2);
            // blockStreams keeps copies, not the arrays
            sums.blockStreams(block, samples, streams[0], streams[1], tokens, hidden);
        } finally {
            nanos += System.nanoTime() - start;
        }
    }

    @Override
    public void downProj(int block, NDArray in, NDArray out) {
        long start = System.nanoTime();
        try {
            Peak input = in == actArray ? peakAt(actBest, actMax, in.getShape().get(2)) : hostPeak(in);
            sums.downProj(block, input, hostPeak(out));
        } finally {
            nanos += System.nanoTime() - start;
        }
    }

    /** The largest |x| of [batch, tokens, features] and where it first is (row-major), NaNs left out. */
    private Peak hostPeak(NDArray x) {
        int[] bits = host(x);
        int features = (int) x.getShape().get(2);
        int index = LargestAbs.firstIndex(bits, features);
        return peakAt(index, Float.intBitsToFloat(LargestAbs.absBits(bits[index])), features);
    }

    /** x's float32 bit patterns in a buffer of its length, reused across calls. */
    private int[] host(NDArray x) {
        int[] v = DeviceArrays.toHostBits(x, buffers.get(Math.toIntExact(x.size())));
        buffers.put(v.length, v);
        return v;
    }

    private Peak peakAt(long index, float value, long features) {
        return BatchDepth.peakAt(samples, tokens, index, value, features);
    }
}
