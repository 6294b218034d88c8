package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.layerscope.model.Tap;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.OutlierPositions;
import io.layerscope.stats.Peak;
import java.util.EnumMap;
import java.util.Map;

/**
 * Feeds a {@link DepthSums} from a forward pass: the residual stream around each block is copied to
 * the host once per block (each block's output serves as the next block's input) for block influence,
 * last-token distances and massive activations; down_proj's extremes and the taps' |x| >= 6 counts
 * are reduced on the device, so only their small results are copied.
 */
final class DepthAccumulator implements TapSink {
    private final DepthSums sums;
    private NDManager batch;
    private int[] samples;
    private int tokens;
    private NDArray lastOut;
    private float[] lastOutHost;
    /** Per tap kind, over the blocks run so far: the largest |x| [batch, tokens, features]. */
    private final Map<Tap, NDArray> anyBlock = new EnumMap<>(Tap.class);

    DepthAccumulator(DepthSums sums) {
        this.sums = sums;
    }

    /** The next batch's global sample indices, in batch order; its arrays live in {@code batch}. */
    void beginBatch(NDManager batch, int[] samples, int tokens) {
        this.batch = batch;
        this.samples = samples.clone();
        this.tokens = tokens;
    }

    /**
     * A sink for sequential mode's dense pass of a round over a batch begun with {@link #beginBatch}:
     * down_proj's spikes and the taps' |x| >= 6 counts of the block, as the round's masks see them,
     * the positions reached marked in {@code marks} (carried to the next round; the residual stream
     * comes from the pruned pass instead).
     */
    TapSink denseRound(OutlierPositions marks) {
        return new TapSink() {
            @Override
            public boolean wants(String tapKey) {
                return DepthAccumulator.this.wants(tapKey);
            }

            @Override
            public void accept(String tapKey, NDArray x) {
                int slash = tapKey.indexOf('/');
                int block = Integer.parseInt(tapKey.substring(0, slash));
                Tap tap = Tap.valueOf(tapKey.substring(slash + 1));
                int features = (int) x.getShape().get(2);
                byte[] reached = DeviceArrays.cast(DeviceArrays.cast(x, DataType.FLOAT32).abs()
                        .gte(DepthSums.OUTLIER_ABS), DataType.INT8).toByteArray();
                long[] inBlock = new long[features];
                for (int row = 0; row < reached.length; row += features) {
                    for (int c = 0; c < features; c++) {
                        inBlock[c] |= reached[row + c];
                    }
                }
                sums.outlierBlocks(tap, block, inBlock);
                marks.mark(tap, reached, features);
            }

            @Override
            public void downProj(int block, NDArray in, NDArray out) {
                DepthAccumulator.this.downProj(block, in, out);
            }
        };
    }

    /** Adds what is kept across blocks and forgets the batch (call while its manager is open). */
    void endBatch() {
        anyBlock.forEach((tap, any) -> sums.outlierAnyBlock(tap, counts(any)));
        anyBlock.clear();
        sums.outlierTokens((long) samples.length * tokens);
        sums.finishSequences();
        lastOut = null;
        lastOutHost = null;
        batch = null;
    }

    @Override
    public boolean wants(String tapKey) {
        return !tapKey.equals(Tap.FINAL_NORM.key(-1));
    }

    @Override
    public void accept(String tapKey, NDArray x) {
        int slash = tapKey.indexOf('/');
        int block = Integer.parseInt(tapKey.substring(0, slash));
        Tap tap = Tap.valueOf(tapKey.substring(slash + 1));
        // Few device operations per tap (each costs a fixed overhead): the block's largest |x| per
        // channel says which channels reach 6 in this block; a running maximum over the blocks gives
        // the positions where a channel reaches 6 in any block, counted once at the end of the batch.
        NDArray abs = DeviceArrays.cast(x, DataType.FLOAT32).abs();
        long features = x.getShape().get(2);
        float[] channelMax = abs.reshape(-1, features).max(new int[] {0}).toFloatArray();
        long[] reached = new long[channelMax.length];
        for (int c = 0; c < reached.length; c++) {
            reached[c] = channelMax[c] >= DepthSums.OUTLIER_ABS ? 1 : 0;
        }
        sums.outlierBlocks(tap, block, reached);
        NDArray max = anyBlock.get(tap);
        NDArray merged = max == null ? abs : max.maximum(abs);
        merged.attach(batch);
        anyBlock.put(tap, merged);
    }

    /** Per feature, the positions of [batch, tokens, features] where |x| >= 6. */
    private static long[] counts(NDArray maxAbs) {
        return DeviceArrays.cast(maxAbs.gte(DepthSums.OUTLIER_ABS), DataType.INT64).sum(new int[] {0, 1}).toLongArray();
    }

    @Override
    public void embedded(NDArray h) {
        lastOut = h;
        lastOutHost = host(h);
    }

    @Override
    public void residual(int block, NDArray in, NDArray out) {
        float[] inHost = in == lastOut ? lastOutHost : host(in);
        float[] outHost = host(out);
        int hidden = (int) out.getShape().get(2);
        sums.blockStreams(block, samples, inHost, outHost, tokens, hidden);
        lastOut = out;
        lastOutHost = outHost;
    }

    @Override
    public void downProj(int block, NDArray in, NDArray out) {
        sums.downProj(block, devicePeak(in), hostPeak(out));
    }

    /** The largest |x| of [batch, tokens, features] and where it is; torch's argmax takes the first of equal maxima. */
    private Peak devicePeak(NDArray x) {
        NDArray abs = DeviceArrays.cast(x, DataType.FLOAT32).abs();
        long index = abs.reshape(-1).argMax().getLong();
        float value = abs.max().getFloat();
        return peakAt(index, value, x.getShape().get(2));
    }

    /** As {@link #devicePeak}, over a host copy: cheaper than three device reductions for a hidden-size stream. */
    private Peak hostPeak(NDArray x) {
        float[] v = host(x);
        int best = 0;
        float max = -1f;
        for (int k = 0; k < v.length; k++) {
            float a = Math.abs(v[k]);
            if (a > max) {
                max = a;
                best = k;
            }
        }
        return peakAt(best, max, x.getShape().get(2));
    }

    private Peak peakAt(long index, float value, long features) {
        int channel = (int) (index % features);
        long row = index / features;
        return new Peak(value, samples[(int) (row / tokens)], (int) (row % tokens), channel);
    }

    private static float[] host(NDArray x) {
        return DeviceArrays.cast(x, DataType.FLOAT32).toFloatArray();
    }
}
