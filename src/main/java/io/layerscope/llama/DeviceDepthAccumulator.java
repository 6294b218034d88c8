package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.model.Tap;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.OutlierPositions;
import io.layerscope.stats.Peak;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Feeds a {@link DepthSums} as {@link DepthAccumulator} does, with the scans as device reductions, so
 * that a GPU executor copies a few numbers per block to the host instead of every tap and residual
 * stream: the |x| >= 6 marks are boolean arrays OR-ed across the batch's blocks on the device and
 * counted per feature at its end; block influence comes back as three float64 sums per token; the
 * |h| histogram as its occupied bins, from the top half of the float32 bits computed exactly
 * ({@link ExactFloatBits#top16}); the largest entries as a few candidates per sequence (the entries
 * above its third largest |h|, then the first of those equal to it); down_proj's spikes by a flat
 * argmax (the first largest). The results are those of the host path: integers and peaks the same,
 * sums of doubles added in another order (DeviceDepthAccumulatorTest).
 *
 * <p>On the CPU the host path is faster (a copy there is a memcpy, and each reduction pays a fixed
 * dispatch cost), so the model uses this one on GPUs only.
 */
final class DeviceDepthAccumulator implements BatchDepth {
    /** The bin of a NaN in the host path's histogram: the canonical NaN's top 16 bits. */
    private static final long NAN_BIN = Float.floatToRawIntBits(Float.NaN) >>> 16;
    private final DepthSums sums;
    /** Holds the batch's marks across its blocks; closed by the caller with the batch. */
    private final NDManager batch;
    /** The exact float bits' tables, made on the batch's manager at the first residual stream when not given. */
    private ExactFloatBits bits;
    private int[] samples;
    private int tokens;
    /** Per tap kind, over the blocks run so far in this batch: the entries with |x| >= 6 (boolean, on the device). */
    private final Map<Tap, NDArray> anyBlock = new EnumMap<>(Tap.class);
    private long nanos;

    /**
     * Arrays it keeps live on {@code batch}, which must stay open until {@link #endBatch()}; {@code bits}
     * may be shared by a call's accumulators, or null.
     */
    DeviceDepthAccumulator(DepthSums sums, NDManager batch, ExactFloatBits bits) {
        this.sums = sums;
        this.batch = batch;
        this.bits = bits;
    }

    /**
     * {@link DepthSums#blockStreams} on the device: the residual stream around one block of a batch
     * (sequential mode's pruned pass), nothing else; no batch to end, since the pass counts its
     * tokens and finishes its sequences elsewhere.
     */
    static void blockStreams(DepthSums sums, NDManager batch, int block, int[] samples, int tokens, NDArray in,
                             NDArray out) {
        DeviceDepthAccumulator d = new DeviceDepthAccumulator(sums, batch, null);
        d.beginBatch(samples, tokens);
        d.residual(block, in, out);
    }

    @Override
    public void beginBatch(int[] samples, int tokens) {
        this.samples = samples.clone();
        this.tokens = tokens;
    }

    @Override
    public void endBatch() {
        long start = System.nanoTime();
        try {
            anyBlock.forEach((tap, any) -> {
                sums.outlierAnyBlock(tap, perFeature(any));
                any.close();
            });
            anyBlock.clear();
            sums.outlierTokens((long) samples.length * tokens);
            sums.finishSequences();
        } finally {
            nanos += System.nanoTime() - start;
        }
    }

    @Override
    public long nanos() {
        return nanos;
    }

    @Override
    public void accept(String tapKey, NDArray x) {
        long start = System.nanoTime();
        int block = BatchDepth.blockOf(tapKey);
        Tap tap = BatchDepth.tapOf(tapKey);
        try (NDManager scope = batch.newSubManager()) {
            // NaN >= 6 is false and inf >= 6 true, as the host's test of the bits
            NDArray marks = marks(x, scope);
            NDArray any = anyBlock.get(tap);
            if (any != null && !any.getShape().equals(marks.getShape())) {
                throw new IllegalStateException(tap + " of block " + block + " is " + marks.getShape() + ", not "
                        + any.getShape() + " as in the blocks before");
            }
            // per feature, the entries marked in this block and those no earlier block marked, in one transfer
            NDArray fresh = any == null ? marks : marks.logicalAnd(any.logicalNot());
            long[] both = NDArrays.stack(new NDList(marks.sum(new int[] {0, 1}), fresh.sum(new int[] {0, 1}))).toLongArray();
            int features = both.length / 2;
            long[] reached = new long[features];
            for (int c = 0; c < features; c++) {
                reached[c] = both[c] > 0 ? 1 : 0;
            }
            sums.outlierBlocks(tap, block, reached);
            sums.outlierFirstBlock(tap, block, Arrays.copyOfRange(both, features, 2 * features));
            NDArray next = any == null ? marks : any.logicalOr(marks);
            next.attach(batch);
            if (any != null) {
                any.close();
            }
            anyBlock.put(tap, next);
        } finally {
            nanos += System.nanoTime() - start;
        }
    }

    /** As the host's, the marks packed 32 to a word on the device: a word per 32 entries comes to the host, not 32 floats. */
    @Override
    public TapSink denseRound(OutlierPositions marks) {
        return new TapSink() {
            @Override
            public boolean wants(String tapKey) {
                return DeviceDepthAccumulator.this.wants(tapKey);
            }

            @Override
            public void accept(String tapKey, NDArray x) {
                long start = System.nanoTime();
                try (NDManager scope = batch.newSubManager()) {
                    Tap tap = BatchDepth.tapOf(tapKey);
                    NDArray m = marks(x, scope);
                    sums.outlierBlocks(tap, BatchDepth.blockOf(tapKey), reached(m));
                    marks.mark(tap, packed(m, scope), Math.toIntExact(m.size()), (int) x.getShape().get(2));
                } finally {
                    nanos += System.nanoTime() - start;
                }
            }

            @Override
            public void downProj(int block, NDArray in, NDArray out) {
                DeviceDepthAccumulator.this.downProj(block, in, out);
            }
        };
    }

    /** |x| >= 6 of a tap, on {@code scope}: NaN >= 6 is false and inf >= 6 true, as the host's test of the bits. */
    private static NDArray marks(NDArray x, NDManager scope) {
        return fresh(x, DataType.FLOAT32, scope).abs().gte(DepthSums.OUTLIER_ABS);
    }

    /** Per feature, 1 if any entry of the marks is set, else 0. */
    private static long[] reached(NDArray marks) {
        long[] n = perFeature(marks);
        for (int c = 0; c < n.length; c++) {
            n[c] = n[c] > 0 ? 1 : 0;
        }
        return n;
    }

    /** The marks as words: entry k (row-major) is bit k % 32 of word k / 32, as {@link OutlierMarks} packs them. */
    private static int[] packed(NDArray marks, NDManager scope) {
        long n = marks.size();
        NDArray entries = DeviceArrays.cast(marks.flatten(), DataType.INT64);
        if (n % 32 != 0) {
            entries = entries.concat(DeviceArrays.zeros(scope, new Shape(32 - n % 32), DataType.INT64));
        }
        long[] weights = new long[32];
        for (int j = 0; j < 32; j++) {
            weights[j] = 1L << j;
        }
        long[] words = entries.reshape(-1, 32).mul(DeviceArrays.longs(scope, weights, new Shape(32))).sum(new int[] {1})
                .toLongArray();
        int[] out = new int[words.length];
        for (int w = 0; w < words.length; w++) {
            out[w] = (int) words[w];
        }
        return out;
    }

    @Override
    public void residual(int block, NDArray in, NDArray out) {
        long start = System.nanoTime();
        try {
            // a sequence at a time: the float64 copies and products for block influence then stay a few
            // times one sequence's stream, whatever the batch size
            for (int s = 0; s < samples.length; s++) {
                try (NDManager scope = batch.newSubManager()) {
                    sequence(block, s, fresh(in.get(s), DataType.FLOAT64, scope), fresh(out.get(s), DataType.FLOAT64, scope));
                }
            }
        } finally {
            nanos += System.nanoTime() - start;
        }
    }

    /** Sequence {@code s} of the batch around block {@code block}: a and b its [tokens, hidden] streams in float64. */
    private void sequence(int block, int s, NDArray a, NDArray b) {
        if (bits == null) {
            bits = new ExactFloatBits(batch);
        }
        int hidden = (int) b.getShape().get(1);
        double[] dot = a.mul(b).sum(new int[] {1}).toDoubleArray();
        double[] normSqIn = a.mul(a).sum(new int[] {1}).toDoubleArray();
        double[] normSqOut = b.mul(b).sum(new int[] {1}).toDoubleArray();
        // |h| in float32, the stream's own values (float32 or float16 computed)
        NDArray abs = DeviceArrays.cast(b, DataType.FLOAT32).abs();
        NDArray nan = abs.isNaN();
        NDArray bins = bits.top16(where(nan, 0, abs));
        NDList counted = DeviceArrays.cast(where(nan, NAN_BIN, bins), DataType.INT64).flatten()
                .unique(null, true, false, true);
        List<Peak> candidates = candidates(where(nan, -1, abs).flatten(), s, hidden);
        float[] lastIn = DeviceArrays.toHost(a.get(tokens - 1), null);
        float[] lastOut = DeviceArrays.toHost(b.get(tokens - 1), null);
        sums.blockReductions(block, new int[] {samples[s]}, tokens, dot, normSqIn, normSqOut, counted.get(0).toLongArray(),
                counted.get(counted.size() - 1).toLongArray(), candidates, lastIn, lastOut);
    }

    @Override
    public void downProj(int block, NDArray in, NDArray out) {
        long start = System.nanoTime();
        try (NDManager scope = batch.newSubManager()) {
            sums.downProj(block, largest(fresh(in, DataType.FLOAT32, scope)), largest(fresh(out, DataType.FLOAT32, scope)));
        } finally {
            nanos += System.nanoTime() - start;
        }
    }

    /**
     * Candidates for the three largest entries of {@code flat} (|h| of sequence {@code s}, row-major
     * [tokens, hidden], a NaN as -1) by {@link Peak#ORDER}: those above its third largest value, then
     * the first of those equal to it (row-major is the order of positions and channels); no NaN.
     */
    private List<Peak> candidates(NDArray flat, int s, int hidden) {
        int k = (int) Math.min(DepthSums.TOP, flat.size());
        float third = flat.topK(k, 0, true, true).get(0).getFloat(k - 1);
        List<Long> at = new ArrayList<>();
        for (long i : flat.gt(third).nonzero().toLongArray()) {
            at.add(i);
        }
        if (third >= 0) {
            NDArray equal = flat.eq(third);
            NDArray rank = DeviceArrays.cast(equal, DataType.INT64).cumSum(0);
            for (long i : equal.logicalAnd(rank.lte(k - at.size())).nonzero().toLongArray()) {
                at.add(i);
            }
        }
        List<Peak> peaks = new ArrayList<>();
        for (long i : at) {
            float value = flat.getFloat(i);
            if (value >= 0) {
                peaks.add(new Peak(value, samples[s], (int) (i / hidden), (int) (i % hidden)));
            }
        }
        return peaks;
    }

    /** The largest |x| of [batch, tokens, features] float32 and where it first is, a NaN read as 0 (as {@link LargestAbs}). */
    private Peak largest(NDArray x) {
        NDArray abs = x.abs();
        NDArray flat = where(abs.isNaN(), 0, abs).flatten();
        long index = flat.argMax().getLong();
        return peakAt(index, flat.getFloat(index), x.getShape().get(2));
    }

    private Peak peakAt(long index, float value, long features) {
        return BatchDepth.peakAt(samples, tokens, index, value, features);
    }

    /** {@code value} where {@code condition} holds, else {@code x}'s entry (DJL's where does not broadcast). */
    private static NDArray where(NDArray condition, double value, NDArray x) {
        return NDArrays.where(condition, x.zerosLike().add(value), x);
    }

    /** Per feature, the true entries of a boolean [batch, tokens, features] array. */
    private static long[] perFeature(NDArray marks) {
        // libtorch sums booleans into int64 without an int64 copy of the marks
        return marks.sum(new int[] {0, 1}).toLongArray();
    }

    /** {@code x} in {@code type} as a new array on {@code scope}, so that what derives from it is freed with the scope. */
    private static NDArray fresh(NDArray x, DataType type, NDManager scope) {
        NDArray c = DeviceArrays.copy(x, type);
        c.attach(scope);
        return c;
    }
}
