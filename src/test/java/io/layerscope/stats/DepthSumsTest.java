package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.model.Tap;
import io.layerscope.stats.DepthStatistics.BlockDepth;
import io.layerscope.stats.DepthStatistics.BlockDistance;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Merging parts of {@link DepthSums} the way sequential mode gathers them: one part per block of
 * the same sequences, the last-token states travelling with the parts until the union is finished.
 */
class DepthSumsTest {
    // one sequence (sample 7) of 2 tokens, hidden size 2: boundaries h0 (embedding), h1, h2
    static final float[] H0 = {1, 0, 0, 1};
    static final float[] H1 = {1, 1, 0, 2};
    static final float[] H2 = {0, 3, -1, 2};

    @Test
    void blocksOfOneSequenceFromTwoPartsGiveWhatOnePartGives() {
        DepthSums round0 = new DepthSums();
        round0.blockStreams(0, new int[] {7}, H0, H1, 2, 2);
        DepthSums round1 = new DepthSums();
        round1.blockStreams(1, new int[] {7}, H1, H2, 2, 2);
        DepthSums merged = round0.merge(round1);
        merged.finishSequences();

        List<BlockDepth> blocks = DepthStatistics.blocks(merged);
        // block 0: tokens (1,0)->(1,1) and (0,1)->(0,2): 1 - 1/sqrt(2) and 0
        assertEquals((1 - 1 / Math.sqrt(2)) / 2, blocks.get(0).blockInfluence(), 1e-15);
        // block 1: (1,1)->(0,3): 1 - 3/(sqrt(2)*3); (0,2)->(-1,2): 1 - 4/(2*sqrt(5))
        assertEquals((1 - 1 / Math.sqrt(2) + 1 - 2 / Math.sqrt(5)) / 2, blocks.get(1).blockInfluence(), 1e-15);
        // last tokens (0,1), (0,2), (-1,2): d(0,1) = 0, d(1,2) = d(0,2) = arccos(2/sqrt(5)) / pi
        double d = Math.acos(2 / Math.sqrt(5)) / Math.PI;
        List<BlockDistance> distances = DepthStatistics.distances(merged);
        assertEquals(3, distances.size());
        assertEquals(new BlockDistance(0, 1, 0.0, 0), distances.get(0));
        assertEquals(d, distances.get(1).angularDistance(), 1e-15);
        assertEquals(d, distances.get(2).angularDistance(), 1e-15);
        assertEquals(2, distances.get(2).span());

        DepthSums whole = new DepthSums();
        whole.blockStreams(0, new int[] {7}, H0, H1, 2, 2);
        whole.blockStreams(1, new int[] {7}, H1, H2, 2, 2);
        whole.finishSequences();
        assertEquals(DepthStatistics.distances(whole), distances);
        assertEquals(DepthStatistics.blocks(whole).get(1).blockInfluence(), blocks.get(1).blockInfluence());
    }

    /** Block {@code block} of a forward over sample 7's two tokens as the dense pass feeds it, outliers included. */
    private static void feedBlock(DepthSums d, int block, float[] in, float[] out) {
        d.blockStreams(block, new int[] {7}, in, out, 2, 2);
        d.downProj(block, new Peak(block + 1, 7, 0, 1), new Peak(2 * block + 1, 7, 1, 0));
        // channel 1 of MLP_ACT: positions 0 (blocks 0 and 2) and 1 (block 1); channel 0 never
        long[] first = switch (block) {
            case 0 -> new long[] {0, 1};
            case 1 -> new long[] {0, 1};
            default -> new long[] {0, 0};
        };
        d.outlierBlocks(Tap.MLP_ACT, block, new long[] {0, 1});
        d.outlierFirstBlock(Tap.MLP_ACT, block, first);
    }

    /**
     * Cut at a block, the statistics of a forward over more blocks are those of a forward that
     * stopped there: the same bytes as Spark would ship them, the any-block outlier positions those
     * of the blocks kept.
     */
    @Test
    void cutAtABlockTheStatisticsAreThoseOfAForwardThatStoppedThere() throws Exception {
        float[] h3 = {2, -1, 1, 1};
        float[][] boundaries = {H0, H1, H2, h3};
        DepthSums whole = new DepthSums();
        for (int b = 0; b < 3; b++) {
            feedBlock(whole, b, boundaries[b], boundaries[b + 1]);
        }
        whole.outlierAnyBlock(Tap.MLP_ACT, new long[] {0, 2});
        whole.outlierTokens(2);
        whole.finishSequences();
        for (int last = 0; last < 3; last++) {
            DepthSums stopped = new DepthSums();
            for (int b = 0; b <= last; b++) {
                feedBlock(stopped, b, boundaries[b], boundaries[b + 1]);
            }
            stopped.outlierAnyBlock(Tap.MLP_ACT, new long[] {0, last == 0 ? 1 : 2});
            stopped.outlierTokens(2);
            stopped.finishSequences();
            assertArrayEquals(bytes(stopped), bytes(whole.upTo(last).orElseThrow()), "blocks 0.." + last);
        }
        assertEquals(List.of(0, 1, 2), DepthStatistics.blocks(whole.upTo(5).orElseThrow()).stream()
                .map(BlockDepth::block).toList(), "past the last block: all of them");

        // what cannot be cut: sequential mode's any-block counts without first blocks, counts that
        // disagree with them, sequences under way
        DepthSums rounds = new DepthSums();
        rounds.outlierAnyBlock(Tap.MLP_ACT, new long[] {0, 2});
        assertEquals(Optional.empty(), rounds.upTo(0));
        DepthSums disagreeing = whole.merge(new DepthSums());
        disagreeing.outlierAnyBlock(Tap.MLP_ACT, new long[] {0, 1});
        assertEquals(Optional.empty(), disagreeing.upTo(0));
        DepthSums underWay = new DepthSums();
        feedBlock(underWay, 0, H0, H1);
        assertEquals(Optional.empty(), underWay.upTo(0));
    }

    /**
     * A part as Spark ships it (Java serialisation, the counter arrays packed): the same statistics and
     * the same bytes again, in a small fraction of the histograms' 32768 bins a block.
     */
    @Test
    void aPartSurvivesSerialisationInAFractionOfItsBins() throws Exception {
        DepthSums part = new DepthSums();
        part.blockStreams(0, new int[] {7}, H0, H1, 2, 2);
        part.blockStreams(1, new int[] {7}, H1, H2, 2, 2);
        long[] counts = new long[4096];
        counts[17] = 3;
        counts[4095] = 1;
        part.outlierBlocks(Tap.MLP_ACT, 1, counts);
        part.outlierAnyBlock(Tap.MLP_ACT, counts);
        part.outlierTokens(2);
        byte[] bytes = bytes(part);
        DepthSums back = (DepthSums) new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes)).readObject();
        assertEquals(java.util.Arrays.toString(bytes), java.util.Arrays.toString(bytes(back)));
        assertArrayEquals(part.histogramOf(1), back.histogramOf(1));
        assertEquals(1L, back.histogramOf(1)[Float.floatToRawIntBits(3f) >>> 16]);
        part.finishSequences();
        back.finishSequences();
        assertEquals(DepthStatistics.distances(part), DepthStatistics.distances(back));
        List<BlockDepth> blocks = DepthStatistics.blocks(part);
        List<BlockDepth> again = DepthStatistics.blocks(back);
        assertEquals(2, again.size());
        for (int b = 0; b < 2; b++) {
            assertEquals(blocks.get(b).blockInfluence(), again.get(b).blockInfluence());
            assertEquals(blocks.get(b).top(), again.get(b).top());
            assertArrayEquals(blocks.get(b).top3(), again.get(b).top3());
            assertEquals(blocks.get(b).medianAbs(), again.get(b).medianAbs());
        }
        assertEquals(List.of("MLP_ACT/17 1.0 1.5 [1]", "MLP_ACT/4095 1.0 0.5 [1]"), features(part));
        assertEquals(features(part), features(back));
        // two histograms of 32768 longs and 4096 counts would be over half a megabyte
        assertTrue(bytes.length < 16_000, bytes.length + " bytes");
    }

    /**
     * Stage one's driver adds each shard's part the moment it arrives, in whatever order the shards
     * end: every order must give the same bytes, peaks, histograms and counts included.
     */
    @Test
    void partsAddedInAnyOrderGiveTheSameBytes() throws Exception {
        List<DepthSums> parts = new java.util.ArrayList<>();
        int[][] samples = {{7}, {3, 4}, {9}};
        java.util.Random random = new java.util.Random(11);
        for (int[] s : samples) {
            DepthSums part = new DepthSums();
            float[][] h = new float[3][s.length * 2 * 2];
            for (float[] state : h) {
                for (int i = 0; i < state.length; i++) {
                    state[i] = random.nextInt(17) - 8;   // small integers: ties between the parts' peaks
                }
            }
            part.blockStreams(0, s, h[0], h[1], 2, 2);
            part.blockStreams(1, s, h[1], h[2], 2, 2);
            long[] counts = new long[8];
            counts[random.nextInt(8)] = 1 + random.nextInt(3);
            part.outlierBlocks(Tap.MLP_ACT, 1, counts);
            part.outlierAnyBlock(Tap.MLP_ACT, counts);
            part.outlierTokens(2L * s.length);
            parts.add(part);
        }
        byte[] first = null;
        for (int[] order : new int[][] {{0, 1, 2}, {2, 0, 1}, {1, 2, 0}, {2, 1, 0}}) {
            DepthSums all = new DepthSums();
            for (int i : order) {
                all.add(parts.get(i));
            }
            byte[] bytes = bytes(all);
            if (first == null) {
                first = bytes;
            }
            assertArrayEquals(first, bytes, "order " + java.util.Arrays.toString(order));
        }
    }

    /** The channels that reached |x| >= 6 in some block, with their shares and blocks, as text. */
    private static List<String> features(DepthSums d) {
        return DepthStatistics.outlierFeatures(d, 0.5, 0).stream().map(f -> f.tap() + "/" + f.channel() + " "
                + f.blockShare() + " " + f.positionShare() + " " + java.util.Arrays.toString(f.blocks())).toList();
    }

    private static byte[] bytes(java.io.Serializable o) throws java.io.IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(b)) {
            out.writeObject(o);
        }
        return b.toByteArray();
    }

    @Test
    void aBlockOfASampleInTwoPartsIsRefusedNotCountedTwice() {
        DepthSums a = new DepthSums();
        a.blockStreams(0, new int[] {7}, H0, H1, 2, 2);
        DepthSums b = new DepthSums();
        b.blockStreams(0, new int[] {7}, H0, H1, 2, 2);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.merge(b));
        assertEquals("block 0 of calibration sample 7 was run twice; shards must be disjoint", e.getMessage());
    }

    @Test
    void twoDifferentStatesOfOneBoundaryAreRefused() {
        DepthSums a = new DepthSums();
        a.blockStreams(0, new int[] {7}, H0, H1, 2, 2);
        DepthSums b = new DepthSums();
        b.blockStreams(1, new int[] {7}, H2, H2, 2, 2);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.merge(b));
        assertEquals("two different states of boundary 1 of sample 7", e.getMessage());
    }

    @Test
    void aNegativeNaNInTheStreamLandsInTheNaNBinsAndTheMedianIsOfTheRest() {
        // x86's inf - inf: a NaN with the sign bit set, which Math.abs returns unchanged
        float negativeNaN = Float.intBitsToFloat(0xffc00000);
        DepthSums d = new DepthSums();
        d.blockStreams(0, new int[] {0}, new float[] {1, 1, 1, 1, 1, 1}, new float[] {-2, negativeNaN, 3, -0.5f, 1, 4}, 2, 3);
        long[] hist = d.histogram().get(0);
        assertEquals(1, hist[0x7fc0]);
        assertEquals(6, java.util.Arrays.stream(hist).sum());
        // the lower median of |h| over 6 values, the NaN largest: 0.5 1 2 3 4 NaN -> 2
        assertEquals(2.0, DepthStatistics.blocks(d).get(0).medianAbs());
        assertEquals(4.0, DepthStatistics.blocks(d).get(0).top().abs());
    }

    /**
     * Block influence, the |h| histogram and the top three peaks of a stream of two sequences of 5
     * tokens (the loop takes tokens two at a time, the fifth alone), against plain loops written
     * here: each token's sums in channel order, the tokens' terms in token order, and the peaks as a
     * sort of every entry by |h| (larger first), then sample, position, channel. The values are few,
     * so |h| ties across the two tokens of a pair and across the sequences.
     */
    @Test
    void aStreamOfOddLengthGivesWhatPlainLoopsGive() {
        int tokens = 5;
        int hidden = 3;
        int[] samples = {3, 1};
        float[] values = {-2f, -1.5f, -0.5f, 0.5f, 1f, 1.5f, 2f};
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        float[] in = new float[samples.length * tokens * hidden];
        float[] out = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            in[i] = values[random.nextInt(values.length)];
            out[i] = values[random.nextInt(values.length)];
        }
        DepthSums d = new DepthSums();
        d.blockStreams(4, samples, in, out, tokens, hidden);
        d.finishSequences();

        double influence = 0;
        long[] hist = new long[1 << 15];
        List<float[]> entries = new java.util.ArrayList<>();   // |h|, sample, position, channel
        for (int s = 0; s < samples.length; s++) {
            double sequence = 0;
            for (int t = 0; t < tokens; t++) {
                double dot = 0;
                double nin = 0;
                double nout = 0;
                for (int c = 0; c < hidden; c++) {
                    int i = (s * tokens + t) * hidden + c;
                    dot += (double) in[i] * out[i];
                    nin += (double) in[i] * in[i];
                    nout += (double) out[i] * out[i];
                    hist[Float.floatToRawIntBits(Math.abs(out[i])) >>> 16]++;
                    entries.add(new float[] {Math.abs(out[i]), samples[s], t, c});
                }
                sequence += 1 - dot / Math.max(Math.sqrt(nin) * Math.sqrt(nout), 1e-8);
            }
            influence += sequence;
        }
        entries.sort((a, b) -> a[0] != b[0] ? Float.compare(b[0], a[0])
                : a[1] != b[1] ? Float.compare(a[1], b[1]) : a[2] != b[2] ? Float.compare(a[2], b[2]) : Float.compare(a[3], b[3]));

        BlockDepth block = DepthStatistics.blocks(d).get(0);
        assertEquals(influence / (samples.length * tokens), block.blockInfluence(), 0.0);
        assertArrayEquals(hist, d.histogram().get(4));
        List<Peak> top = d.top().get(4);
        assertEquals(3, top.size());
        for (int k = 0; k < 3; k++) {
            float[] e = entries.get(k);
            assertEquals(new Peak(e[0], (int) e[1], (int) e[2], (int) e[3]), top.get(k), "peak " + k);
        }
        assertEquals(2f, top.get(2).abs(), "the values tie at the top");
    }
}
