package io.layerscope.llama;

import ai.djl.ndarray.NDArray;
import io.layerscope.LayerscopeException;
import io.layerscope.model.Tap;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.Peak;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * Feeds a {@link DepthSums} from a forward pass. Each tensor it needs is copied to the host once
 * (the residual stream around each block, each block's output serving as the next block's input;
 * the four taps; down_proj's output) and scanned by one Java loop: block influence, last-token
 * distances and massive activations from the stream, the |x| >= 6 counts from the taps, down_proj's
 * largest input from the MLP_ACT tap's scan and its largest output from its own.
 *
 * <p>Why the host: on the CPU a copy out of the tensor's storage costs a memcpy, while every device
 * reduction costs a fixed JNI and dispatch overhead, and libtorch's per-channel maximum (which also
 * computes the argmax) and flat argmax are several times slower than one pass in Java.
 */
final class DepthAccumulator implements TapSink {
    private final DepthSums sums;
    private int[] samples;
    private int tokens;
    private NDArray lastOut;
    private float[] lastOutHost;
    /** The residual-stream buffer not holding {@code lastOutHost}: reused block after block. */
    private float[] spareStream;
    /** Host buffers of the taps and down_proj's output by length (hidden or intermediate size), reused. */
    private final Map<Integer, float[]> buffers = new HashMap<>();
    /** Per tap kind, over the blocks run so far in this batch: the entries with |x| >= 6. */
    private final Map<Tap, OutlierPositions> anyBlock = new EnumMap<>(Tap.class);
    /** The MLP_ACT tap last scanned (down_proj's input) and its largest |x|, as a row-major index and value. */
    private NDArray actArray;
    private int actBest;
    private float actMax;

    DepthAccumulator(DepthSums sums) {
        this.sums = sums;
    }

    /** The next batch's global sample indices, in batch order, each window {@code tokens} long. */
    void beginBatch(int[] samples, int tokens) {
        this.samples = samples.clone();
        this.tokens = tokens;
    }

    /** Adds what is kept across blocks and forgets the batch. */
    void endBatch() {
        anyBlock.forEach((tap, any) -> sums.outlierAnyBlock(tap, any.counts()));
        anyBlock.clear();
        sums.outlierTokens((long) samples.length * tokens);
        sums.finishSequences();
        lastOut = null;
        lastOutHost = null;
        actArray = null;
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
        int features = (int) x.getShape().get(2);
        float[] v = host(x);
        OutlierPositions any = anyBlock.computeIfAbsent(tap, t -> new OutlierPositions(v.length / features, features));
        if (any.features() != features) {
            throw new LayerscopeException("tap " + tapKey + " has " + features + " features, earlier blocks " + any.features());
        }
        long[] reached = new long[features];
        if (tap == Tap.MLP_ACT) {
            scanWithPeak(v, features, reached, any);
            actArray = x;
        } else {
            scan(v, features, reached, any);
        }
        sums.outlierBlocks(tap, block, reached);
    }

    /** Marks every entry with |x| >= 6, and its feature as reached in this block. */
    private static void scan(float[] v, int features, long[] reached, OutlierPositions any) {
        for (int k = 0; k < v.length; k++) {
            if (Math.abs(v[k]) >= DepthSums.OUTLIER_ABS) {
                reached[k % features] = 1;
                any.set(k);
            }
        }
    }

    /** As {@link #scan}, and keeps the largest |x| and its first row-major index (down_proj's input spike). */
    private void scanWithPeak(float[] v, int features, long[] reached, OutlierPositions any) {
        int best = 0;
        float max = -1f;
        for (int k = 0; k < v.length; k++) {
            float a = Math.abs(v[k]);
            if (a > max) {
                max = a;
                best = k;
            }
            if (a >= DepthSums.OUTLIER_ABS) {
                reached[k % features] = 1;
                any.set(k);
            }
        }
        actBest = best;
        actMax = max;
    }

    @Override
    public void embedded(NDArray h) {
        lastOut = h;
        lastOutHost = DeviceArrays.toHost(h, lastOutHost);
    }

    @Override
    public void residual(int block, NDArray in, NDArray out) {
        float[] inHost = in == lastOut ? lastOutHost : DeviceArrays.toHost(in, null);
        float[] outHost = DeviceArrays.toHost(out, spareStream);
        int hidden = (int) out.getShape().get(2);
        sums.blockStreams(block, samples, inHost, outHost, tokens, hidden);
        spareStream = inHost;   // blockStreams keeps copies, not the arrays
        lastOut = out;
        lastOutHost = outHost;
    }

    @Override
    public void downProj(int block, NDArray in, NDArray out) {
        Peak input;
        if (in == actArray) {
            input = peakAt(actBest, actMax, in.getShape().get(2));
        } else {
            input = hostPeak(host(in), in.getShape().get(2));
        }
        sums.downProj(block, input, hostPeak(host(out), out.getShape().get(2)));
    }

    private float[] host(NDArray x) {
        float[] v = DeviceArrays.toHost(x, buffers.get(Math.toIntExact(x.size())));
        buffers.put(v.length, v);
        return v;
    }

    /** The largest |x| of a row-major [batch, tokens, features] host copy and where it first is. */
    private Peak hostPeak(float[] v, long features) {
        int best = 0;
        float max = -1f;
        for (int k = 0; k < v.length; k++) {
            float a = Math.abs(v[k]);
            if (a > max) {
                max = a;
                best = k;
            }
        }
        return peakAt(best, max, features);
    }

    private Peak peakAt(long index, float value, long features) {
        int channel = (int) (index % features);
        long row = index / features;
        return new Peak(value, samples[(int) (row / tokens)], (int) (row % tokens), channel);
    }
}
