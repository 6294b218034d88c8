package io.layerscope.stats;

import io.layerscope.LayerscopeException;
import io.layerscope.model.Tap;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Partial depth and outlier statistics of some calibration sequences (docs/METRICS.md, blocks):
 * fed host copies of the residual stream around each block, down_proj's extreme entries and the
 * LLM.int8 outlier counts of each tap; merged exactly across shards. Whatever the shards, the merged
 * result is the same to the bit: per-sequence values are kept under the sequence's global sample
 * index and summed in sample order at the end; counts are integers; maxima break ties on (sample,
 * position, channel) ({@link Peak#ORDER}).
 *
 * <p>The median |h| of a block output is kept as an exact histogram of the float bits of |h| with
 * the low 16 bits dropped (bfloat16 truncation, 32768 bins): its lower median is the truncation of
 * the exact lower median. An exact float32 median would need every value or a second forward.
 *
 * <pre>{@code
 * DepthSums d = new DepthSums();
 * d.blockStreams(0, new int[] {7}, hIn, hOut, tokens, hidden);   // sample 7's stream around block 0
 * d.finishSequences();                                             // last-token distances of sample 7
 * DepthSums all = d.merge(otherShard);
 * }</pre>
 *
 * <p>Sequential mode (docs/PRUNING.md) feeds one block at a time: a part may hold some blocks of a
 * sequence and another part other blocks of the same sequence, and the last-token states of the
 * boundaries travel with the parts until {@link #finishSequences()} is called on their union. A
 * (sample, block) pair held by two parts is refused rather than counted twice.
 *
 * Not thread-safe; plain Java so Spark can ship it, its counter arrays packed ({@link Stored}).
 */
public final class DepthSums implements Serializable {
    private static final long serialVersionUID = 1L;
    /** LLM.int8's outlier magnitude. */
    public static final float OUTLIER_ABS = 6f;
    /** Peaks kept per block: the three largest |h| of its output. */
    public static final int TOP = 3;
    static final int BINS = 1 << 15;
    /** A histogram bin is the float bits of |h| shifted right by this (bfloat16 truncation). */
    static final int BIN_SHIFT = 16;

    /** Per sample: sum over its tokens of 1 - cos(h_in, h_out), per block; its tokens; last-token distances. */
    private final TreeMap<Integer, SampleDepth> samples = new TreeMap<>();
    private final TreeMap<Integer, List<Peak>> top = new TreeMap<>();
    private final TreeMap<Integer, long[]> histogram = new TreeMap<>();
    private final TreeMap<Integer, Peak> downIn = new TreeMap<>();
    private final TreeMap<Integer, Peak> downOut = new TreeMap<>();
    /** Per tap kind and block, per channel: batches of sequences where it reaches |x| >= 6 (only > 0 matters). */
    private final EnumMap<Tap, TreeMap<Integer, long[]>> outlierCounts = new EnumMap<>(Tap.class);
    /** Per tap kind: positions with |x| >= 6 in at least one block, per channel. */
    private final EnumMap<Tap, long[]> outlierAnyBlock = new EnumMap<>(Tap.class);
    /**
     * Per tap kind and block, per channel: positions whose first block with |x| >= 6 is that one, from
     * a forward over the blocks in order (the dense passes; sequential mode's rounds give none). The
     * blocks up to b add up to the any-block counts of blocks 0..b, which {@link #upTo} needs.
     */
    private final EnumMap<Tap, TreeMap<Integer, long[]>> outlierFirstBlock = new EnumMap<>(Tap.class);
    private long outlierTokens;
    /** Last-token states of the sequences under way, per sample and boundary (0 = embedding output). */
    private final TreeMap<Integer, TreeMap<Integer, float[]>> pending = new TreeMap<>();

    static final class SampleDepth implements Serializable {
        private static final long serialVersionUID = 1L;
        final TreeMap<Integer, Double> influence = new TreeMap<>();
        int tokens;
        /** Boundaries b0 < b1 -> arccos(cos) / pi, keyed b0 * 100000 + b1. */
        final TreeMap<Long, Double> distances = new TreeMap<>();

        SampleDepth copy() {
            SampleDepth c = new SampleDepth();
            c.influence.putAll(influence);
            c.tokens = tokens;
            c.distances.putAll(distances);
            return c;
        }
    }

    /**
     * The residual stream entering ({@code in}) and leaving ({@code out}) block {@code block} for the
     * sequences {@code samples} (global sample indices, in batch order), each [samples, tokens, hidden]
     * row-major float32: adds block influence and the output's peaks and |h| histogram, and keeps the
     * last token of both as boundaries {@code block} and {@code block + 1}.
     */
    public void blockStreams(int block, int[] samples, float[] in, float[] out, int tokens, int hidden) {
        long[] hist = histogram.computeIfAbsent(block, b -> new long[BINS]);
        List<Peak> peaks = new ArrayList<>(top.getOrDefault(block, List.of()));
        for (int s = 0; s < samples.length; s++) {
            double influence = 0;
            float third = third(peaks);
            int t = 0;
            // two tokens at a time: each token's three sums still run over its channels in order (the same
            // bits), but the two tokens' six sums are independent chains, so the loop no longer waits on
            // one chain's additions
            for (; t + 1 < tokens; t += 2) {
                int row = (s * tokens + t) * hidden;
                double dot0 = 0;
                double nin0 = 0;
                double nout0 = 0;
                double dot1 = 0;
                double nin1 = 0;
                double nout1 = 0;
                for (int c = 0; c < hidden; c++) {
                    double a0 = in[row + c];
                    float bf0 = out[row + c];
                    double b0 = bf0;
                    double a1 = in[row + hidden + c];
                    float bf1 = out[row + hidden + c];
                    double b1 = bf1;
                    dot0 += a0 * b0;
                    nin0 += a0 * a0;
                    nout0 += b0 * b0;
                    dot1 += a1 * b1;
                    nin1 += a1 * a1;
                    nout1 += b1 * b1;
                    countAbs(hist, bf0);
                    countAbs(hist, bf1);
                    if (Math.abs(bf0) >= third || Math.abs(bf1) >= third) {
                        // the top three are the largest by Peak.ORDER, whatever the order they were met in
                        offer(peaks, Math.abs(bf0), samples[s], t, c);
                        offer(peaks, Math.abs(bf1), samples[s], t + 1, c);
                        third = third(peaks);
                    }
                }
                influence += 1 - cosine(dot0, nin0, nout0);
                influence += 1 - cosine(dot1, nin1, nout1);
            }
            for (; t < tokens; t++) {
                int row = (s * tokens + t) * hidden;
                double dot = 0;
                double nin = 0;
                double nout = 0;
                for (int c = 0; c < hidden; c++) {
                    double a = in[row + c];
                    float bf = out[row + c];
                    double b = bf;
                    dot += a * b;
                    nin += a * a;
                    nout += b * b;
                    countAbs(hist, bf);
                    if (Math.abs(bf) >= third) {
                        offer(peaks, Math.abs(bf), samples[s], t, c);
                        third = third(peaks);
                    }
                }
                influence += 1 - cosine(dot, nin, nout);
            }
            int last = (s * tokens + tokens - 1) * hidden;
            sequence(block, samples[s], influence, tokens, Arrays.copyOfRange(in, last, last + hidden),
                    Arrays.copyOfRange(out, last, last + hidden));
        }
        top.put(block, List.copyOf(peaks));
    }

    /** Counts |x| in the |h| histogram: its bin is the float bits without the sign, the low 16 dropped. */
    private static void countAbs(long[] hist, float x) {
        // the sign cleared from the bits: Math.abs returns a NaN as it is, and the NaN that
        // x86 makes of inf - inf (a float16 overflow) has the sign bit set
        hist[(Float.floatToRawIntBits(x) & 0x7fffffff) >>> BIN_SHIFT]++;
    }

    /** The smallest |h| among the top peaks, or -1 while there are fewer than {@link #TOP}. */
    private static float third(List<Peak> peaks) {
        return peaks.size() < TOP ? -1f : peaks.get(TOP - 1).abs();
    }

    /** Keeps (|h|, sample, position, channel) among the top peaks if it ranks there by {@link Peak#ORDER}. */
    private static void offer(List<Peak> peaks, float abs, int sample, int position, int channel) {
        if (abs >= third(peaks)) {
            peaks.add(new Peak(abs, sample, position, channel));
            peaks.sort(Peak.ORDER);
            if (peaks.size() > TOP) {
                peaks.remove(TOP);
            }
        }
    }

    /**
     * As {@link #blockStreams}, from reductions of the streams made elsewhere (on a GPU): per token, in
     * batch order, the dot product h_in . h_out and both squared norms, in double; the |h_out| histogram
     * as bins and their counts; candidates for the largest |h_out| (at least the batch's three largest
     * by {@link Peak#ORDER}, no NaN); and the last token's states, [samples, hidden] each.
     */
    public void blockReductions(int block, int[] samples, int tokens, double[] dot, double[] normSqIn, double[] normSqOut,
                                long[] bins, long[] counts, List<Peak> candidates, float[] lastIn, float[] lastOut) {
        long[] hist = histogram.computeIfAbsent(block, b -> new long[BINS]);
        for (int i = 0; i < bins.length; i++) {
            hist[Math.toIntExact(bins[i])] += counts[i];
        }
        List<Peak> peaks = new ArrayList<>(top.getOrDefault(block, List.of()));
        peaks.addAll(candidates);
        peaks.sort(Peak.ORDER);
        top.put(block, List.copyOf(peaks.subList(0, Math.min(TOP, peaks.size()))));
        int hidden = lastIn.length / samples.length;
        for (int s = 0; s < samples.length; s++) {
            double influence = 0;
            for (int t = 0; t < tokens; t++) {
                int i = s * tokens + t;
                influence += 1 - cosine(dot[i], normSqIn[i], normSqOut[i]);
            }
            sequence(block, samples[s], influence, tokens, Arrays.copyOfRange(lastIn, s * hidden, (s + 1) * hidden),
                    Arrays.copyOfRange(lastOut, s * hidden, (s + 1) * hidden));
        }
    }

    /** One sequence's block influence summed over its tokens, and its last token around the block. */
    private void sequence(int block, int sample, double influence, int tokens, float[] lastIn, float[] lastOut) {
        SampleDepth d = this.samples.computeIfAbsent(sample, k -> new SampleDepth());
        d.influence.merge(block, influence, Double::sum);
        d.tokens = tokens;
        TreeMap<Integer, float[]> states = pending.computeIfAbsent(sample, k -> new TreeMap<>());
        states.putIfAbsent(block, lastIn);
        states.put(block + 1, lastOut);
    }

    /** PyTorch's cosine_similarity: dot / max(|a| |b|, 1e-8). */
    static double cosine(double dot, double normSqA, double normSqB) {
        return dot / Math.max(Math.sqrt(normSqA) * Math.sqrt(normSqB), 1e-8);
    }

    /** Turns the last-token states of the sequences under way into their angular distances, and forgets the states. */
    public void finishSequences() {
        for (Map.Entry<Integer, TreeMap<Integer, float[]>> e : pending.entrySet()) {
            SampleDepth d = samples.computeIfAbsent(e.getKey(), k -> new SampleDepth());
            List<Map.Entry<Integer, float[]>> states = new ArrayList<>(e.getValue().entrySet());
            for (int i = 0; i < states.size(); i++) {
                for (int j = i + 1; j < states.size(); j++) {
                    d.distances.put(distanceKey(states.get(i).getKey(), states.get(j).getKey()),
                            angularDistance(states.get(i).getValue(), states.get(j).getValue()));
                }
            }
        }
        pending.clear();
    }

    /** arccos(cos(a, b)) / pi, in double, the cosine clamped to [-1, 1]. */
    static double angularDistance(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int c = 0; c < a.length; c++) {
            dot += (double) a[c] * b[c];
            na += (double) a[c] * a[c];
            nb += (double) b[c] * b[c];
        }
        return Math.acos(Math.max(-1, Math.min(1, cosine(dot, na, nb)))) / Math.PI;
    }

    /** The key of the distance from block {@code from} to {@code to} (blocks number far below 100,000). */
    static long distanceKey(int from, int to) {
        return (long) from * 100_000 + to;
    }

    /** down_proj's largest |input| and largest |output| in block {@code block} among some sequences. */
    public void downProj(int block, Peak in, Peak out) {
        downIn.merge(block, in, Peak::first);
        downOut.merge(block, out, Peak::first);
    }

    /**
     * Per channel, how many of some sequences reach |x| >= 6 in tap {@code tap} of block {@code block}
     * (any positive count means the channel reaches it in that block).
     */
    public void outlierBlocks(Tap tap, int block, long[] counts) {
        add(outlierCounts.computeIfAbsent(tap, t -> new TreeMap<>()).computeIfAbsent(block, b -> new long[counts.length]), counts);
    }

    /** Per channel, the positions of some sequences where |x| >= 6 in tap kind {@code tap} of at least one block. */
    public void outlierAnyBlock(Tap tap, long[] counts) {
        add(outlierAnyBlock.computeIfAbsent(tap, t -> new long[counts.length]), counts);
    }

    /**
     * Per channel, the positions of some sequences whose first block with |x| >= 6 in tap kind
     * {@code tap} is {@code block} (fed block by block, in order, beside {@link #outlierAnyBlock}).
     */
    public void outlierFirstBlock(Tap tap, int block, long[] counts) {
        add(outlierFirstBlock.computeIfAbsent(tap, t -> new TreeMap<>()).computeIfAbsent(block, b -> new long[counts.length]),
                counts);
    }

    /** Tokens the outlier counts were taken over. */
    public void outlierTokens(long tokens) {
        outlierTokens += tokens;
    }

    private static void add(long[] into, long[] counts) {
        if (into.length != counts.length) {
            // a node that holds another checkpoint at the model's path: the user's to fix
            throw new LayerscopeException("cannot add outlier counts of " + counts.length + " channels to " + into.length
                    + "; every shard must run the same model (every node must hold the same checkpoint at the model's"
                    + " path, or use --ship-model)");
        }
        for (int c = 0; c < counts.length; c++) {
            into[c] += counts[c];
        }
    }

    /**
     * This and {@code other} together (disjoint sequences, or disjoint blocks of the same sequences);
     * neither is changed.
     */
    public DepthSums merge(DepthSums other) {
        DepthSums m = new DepthSums();
        m.add(this);
        m.add(other);
        return m;
    }

    /**
     * Adds {@code other} (disjoint sequences, or disjoint blocks of the same sequences) to this one,
     * which is cheaper than {@link #merge} when many parts are gathered into one.
     */
    public void add(DepthSums o) {
        o.samples.forEach((s, d) -> {
            SampleDepth mine = samples.get(s);
            if (mine == null) {
                samples.put(s, d.copy());
                return;
            }
            d.influence.forEach((b, v) -> {
                if (mine.influence.putIfAbsent(b, v) != null) {
                    throw new IllegalStateException("block " + b + " of calibration sample " + s + " was run twice;"
                            + " shards must be disjoint");
                }
            });
            d.distances.forEach((k, v) -> {
                if (mine.distances.putIfAbsent(k, v) != null) {
                    throw new IllegalStateException("the distance " + k / 100_000 + " .. " + k % 100_000
                            + " of calibration sample " + s + " was computed twice; shards must be disjoint");
                }
            });
            mine.tokens = Math.max(mine.tokens, d.tokens);
        });
        o.pending.forEach((s, states) -> {
            TreeMap<Integer, float[]> mine = pending.computeIfAbsent(s, k -> new TreeMap<>());
            states.forEach((boundary, h) -> {
                float[] had = mine.putIfAbsent(boundary, h);
                if (had != null && !java.util.Arrays.equals(had, h)) {
                    // a block's output is the next block's input: both parts must have seen the same state
                    throw new IllegalStateException("two different states of boundary " + boundary + " of sample " + s);
                }
            });
        });
        o.top.forEach((b, peaks) -> {
            List<Peak> all = new ArrayList<>(top.getOrDefault(b, List.of()));
            all.addAll(peaks);
            all.sort(Peak.ORDER);
            top.put(b, List.copyOf(all.subList(0, Math.min(TOP, all.size()))));
        });
        o.histogram.forEach((b, h) -> add(histogram.computeIfAbsent(b, k -> new long[BINS]), h));
        o.downIn.forEach((b, p) -> downIn.merge(b, p, Peak::first));
        o.downOut.forEach((b, p) -> downOut.merge(b, p, Peak::first));
        o.outlierCounts.forEach((tap, byBlock) -> byBlock.forEach((b, c) -> outlierBlocks(tap, b, c)));
        o.outlierAnyBlock.forEach(this::outlierAnyBlock);
        o.outlierFirstBlock.forEach((tap, byBlock) -> byBlock.forEach((b, c) -> outlierFirstBlock(tap, b, c)));
        outlierTokens += o.outlierTokens;
    }

    /**
     * These statistics as a forward over blocks 0..{@code lastBlock} alone would have given them: every
     * per-block part of those blocks, the distances between their boundaries (0..lastBlock + 1), and
     * the any-block outlier positions summed from the first-block counts of those blocks. Empty when
     * that cannot be told: sequences still under way, or any-block counts without first-block counts
     * (sequential mode's, or a build's that kept none) or not equal to their sum.
     */
    public Optional<DepthSums> upTo(int lastBlock) {
        if (!pending.isEmpty() || !outlierFirstBlock.keySet().equals(outlierAnyBlock.keySet())) {
            return Optional.empty();
        }
        DepthSums d = new DepthSums();
        for (Map.Entry<Tap, long[]> e : outlierAnyBlock.entrySet()) {
            long[] all = new long[e.getValue().length];
            long[] upTo = new long[all.length];
            for (Map.Entry<Integer, long[]> b : outlierFirstBlock.get(e.getKey()).entrySet()) {
                add(all, b.getValue());
                if (b.getKey() <= lastBlock) {
                    add(upTo, b.getValue());
                    d.outlierFirstBlock(e.getKey(), b.getKey(), b.getValue().clone());
                }
            }
            if (!Arrays.equals(all, e.getValue())) {
                return Optional.empty();
            }
            d.outlierAnyBlock.put(e.getKey(), upTo);
        }
        samples.forEach((s, sd) -> {
            SampleDepth c = new SampleDepth();
            c.tokens = sd.tokens;
            c.influence.putAll(sd.influence.headMap(lastBlock, true));
            // boundary b1 of a key b0 * 100000 + b1 at most lastBlock + 1: the forward's last output
            sd.distances.forEach((k, v) -> {
                if (k % 100_000 <= lastBlock + 1) {
                    c.distances.put(k, v);
                }
            });
            d.samples.put(s, c);
        });
        top.headMap(lastBlock, true).forEach((b, p) -> d.top.put(b, p));
        histogram.headMap(lastBlock, true).forEach((b, h) -> d.histogram.put(b, h.clone()));
        d.downIn.putAll(downIn.headMap(lastBlock, true));
        d.downOut.putAll(downOut.headMap(lastBlock, true));
        outlierCounts.forEach((tap, byBlock) -> byBlock.headMap(lastBlock, true).forEach((b, c) -> d.outlierBlocks(tap, b, c)));
        d.outlierTokens = outlierTokens;
        return Optional.of(d);
    }

    private Object writeReplace() {
        return new Stored(this);
    }

    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("DepthSums is stored through DepthSums.Stored");
    }

    /**
     * As serialised: everything as it is but the histograms and the outlier counts, which are
     * {@link PackedCounts} (a stage-one shard's part at Llama-3.2-1B's shape was 6 MB, mostly the
     * zeros of 16 histograms of 32768 bins, each shard's sent to the driver at once).
     */
    private static final class Stored implements Serializable {
        private static final long serialVersionUID = 1L;
        private final TreeMap<Integer, SampleDepth> samples;
        private final TreeMap<Integer, List<Peak>> top;
        private final TreeMap<Integer, PackedCounts> histogram;
        private final TreeMap<Integer, Peak> downIn;
        private final TreeMap<Integer, Peak> downOut;
        private final EnumMap<Tap, TreeMap<Integer, PackedCounts>> outlierCounts = new EnumMap<>(Tap.class);
        private final EnumMap<Tap, PackedCounts> outlierAnyBlock = new EnumMap<>(Tap.class);
        private final EnumMap<Tap, TreeMap<Integer, PackedCounts>> outlierFirstBlock = new EnumMap<>(Tap.class);
        private final long outlierTokens;
        private final TreeMap<Integer, TreeMap<Integer, float[]>> pending;

        Stored(DepthSums d) {
            samples = d.samples;
            top = d.top;
            histogram = packed(d.histogram);
            downIn = d.downIn;
            downOut = d.downOut;
            d.outlierCounts.forEach((tap, byBlock) -> outlierCounts.put(tap, packed(byBlock)));
            d.outlierAnyBlock.forEach((tap, c) -> outlierAnyBlock.put(tap, PackedCounts.of(c)));
            d.outlierFirstBlock.forEach((tap, byBlock) -> outlierFirstBlock.put(tap, packed(byBlock)));
            outlierTokens = d.outlierTokens;
            pending = d.pending;
        }

        private Object readResolve() {
            DepthSums d = new DepthSums();
            d.samples.putAll(samples);
            d.top.putAll(top);
            d.histogram.putAll(unpacked(histogram));
            d.downIn.putAll(downIn);
            d.downOut.putAll(downOut);
            outlierCounts.forEach((tap, byBlock) -> d.outlierCounts.put(tap, unpacked(byBlock)));
            outlierAnyBlock.forEach((tap, c) -> d.outlierAnyBlock.put(tap, c.unpack()));
            outlierFirstBlock.forEach((tap, byBlock) -> d.outlierFirstBlock.put(tap, unpacked(byBlock)));
            d.outlierTokens = outlierTokens;
            d.pending.putAll(pending);
            return d;
        }

        /** Per block, the counts packed. */
        private static TreeMap<Integer, PackedCounts> packed(TreeMap<Integer, long[]> byBlock) {
            TreeMap<Integer, PackedCounts> packed = new TreeMap<>();
            byBlock.forEach((b, c) -> packed.put(b, PackedCounts.of(c)));
            return packed;
        }

        /** Per block, the counts unpacked. */
        private static TreeMap<Integer, long[]> unpacked(TreeMap<Integer, PackedCounts> byBlock) {
            TreeMap<Integer, long[]> counts = new TreeMap<>();
            byBlock.forEach((b, c) -> counts.put(b, c.unpack()));
            return counts;
        }
    }

    // read access for DepthStatistics

    TreeMap<Integer, SampleDepth> samples() {
        return samples;
    }

    TreeMap<Integer, List<Peak>> top() {
        return top;
    }

    TreeMap<Integer, long[]> histogram() {
        return histogram;
    }

    /** A copy of block {@code block}'s |h| histogram (bin: the float bits of |h| >>> {@link #BIN_SHIFT}), or null. */
    public long[] histogramOf(int block) {
        long[] h = histogram.get(block);
        return h == null ? null : h.clone();
    }

    TreeMap<Integer, Peak> downIn() {
        return downIn;
    }

    TreeMap<Integer, Peak> downOut() {
        return downOut;
    }

    EnumMap<Tap, TreeMap<Integer, long[]>> outlierCounts() {
        return outlierCounts;
    }

    EnumMap<Tap, long[]> outlierAnyBlock() {
        return outlierAnyBlock;
    }

    long outlierTokens() {
        return outlierTokens;
    }
}
