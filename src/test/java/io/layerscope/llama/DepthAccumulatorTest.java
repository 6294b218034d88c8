package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.Tap;
import io.layerscope.stats.DepthStatistics;
import io.layerscope.stats.DepthStatistics.BlockDepth;
import io.layerscope.stats.DepthStatistics.BlockDistance;
import io.layerscope.stats.DepthStatistics.OutlierFeature;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.Peak;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The depth statistics of a forward pass against plain-Java loops over the same model's hidden
 * states captured position by position ({@link LlamaModel#positionStreams}, {@link LlamaModel#positionTaps}).
 */
class DepthAccumulatorTest {
    @TempDir
    static Path tmp;
    static Checkpoint ckpt;
    static final int SEQUENCES = 4;
    static final int TOKENS = 9;
    static List<int[]> windows;
    static List<Map<String, float[]>> streams = new ArrayList<>();
    static List<Map<String, float[]>> taps = new ArrayList<>();
    static DepthSums whole;

    @BeforeAll
    static void run() {
        // large outlier features, so that |x| >= 6 happens on some channels and not on others
        ckpt = Checkpoint.open(TinyModels.gqa(DType.F32).layers(3).outlierScale(12f).write(tmp.resolve("m")));
        windows = TinyModels.windows(SEQUENCES, TOKENS, 5);
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
            for (int[] w : windows) {
                streams.add(model.positionStreams(w));
                taps.add(model.positionTaps(w));
            }
            whole = model.forwardWithDepth(windows, new int[] {0, 1, 2, 3}, 1, List.of()).depth();
        }
    }

    /**
     * The captured streams this class holds the depth statistics to are themselves the independent
     * double-precision forward's ({@link ReferenceLlama}), within float32 rounding.
     */
    @Test
    void theCapturedStreamsAreTheReferenceForwards() {
        ReferenceLlama ref = new ReferenceLlama(ckpt);
        for (int s = 0; s < SEQUENCES; s++) {
            Map<String, double[][]> expected = new java.util.LinkedHashMap<>(ref.streams(windows.get(s), 2));
            expected.putAll(ref.taps(windows.get(s), 2));
            Map<String, float[]> actual = new java.util.LinkedHashMap<>(streams.get(s));
            actual.putAll(taps.get(s));
            int compared = 0;
            for (Map.Entry<String, float[]> e : actual.entrySet()) {
                double[][] x = expected.get(e.getKey());
                if (x == null) {
                    continue;                                  // down_in/i: the MLP_ACT tap under another name
                }
                for (int t = 0; t < TOKENS; t++) {
                    for (int c = 0; c < x[t].length; c++) {
                        assertEquals(x[t][c], e.getValue()[t * x[t].length + c], 1e-4 * (1 + Math.abs(x[t][c])),
                                "sequence " + s + " " + e.getKey() + " [" + t + ", " + c + "]");
                    }
                }
                compared++;
            }
            assertTrue(compared >= 4 + 3 + 3 * 4, "streams compared: " + compared);
        }
    }

    @Test
    void blockInfluenceIsTheMeanOfOneMinusCosineOverEveryToken() {
        List<BlockDepth> blocks = DepthStatistics.blocks(whole);
        assertEquals(3, blocks.size());
        for (int b = 0; b < 3; b++) {
            double sum = 0;
            for (Map<String, float[]> s : streams) {
                float[] in = s.get("residual/" + b);
                float[] out = s.get("residual/" + (b + 1));
                for (int t = 0; t < TOKENS; t++) {
                    sum += 1 - cos(row(in, t), row(out, t));
                }
            }
            assertEquals(sum / (SEQUENCES * TOKENS), blocks.get(b).blockInfluence(), 1e-9, "block " + b);
        }
    }

    @Test
    void angularDistancesAreOnTheLastTokenAveragedOverSequences() {
        List<BlockDistance> rows = DepthStatistics.distances(whole);
        assertEquals(3 + 2 + 1, rows.size());
        for (int span = 1; span <= 3; span++) {
            int best = -1;
            double bestD = Double.MAX_VALUE;
            for (int start = 0; start + span <= 3; start++) {
                double sum = 0;
                for (Map<String, float[]> s : streams) {
                    double c = cos(row(s.get("residual/" + start), TOKENS - 1), row(s.get("residual/" + (start + span)), TOKENS - 1));
                    sum += Math.acos(Math.max(-1, Math.min(1, c))) / Math.PI;
                }
                double expected = sum / SEQUENCES;
                if (expected < bestD) {
                    bestD = expected;
                    best = start;
                }
                int st = start;
                int sp = span;
                BlockDistance r = rows.stream().filter(x -> x.start() == st && x.span() == sp).findFirst().orElseThrow();
                assertEquals(expected, r.angularDistance(), 1e-9);
                if (span == 1) {
                    assertEquals(expected, DepthStatistics.blocks(whole).get(start).angularDistanceNext(), 1e-12);
                }
            }
            for (BlockDistance r : rows) {
                if (r.span() == span) {
                    assertEquals(best, r.bestStart(), "span " + span);
                }
            }
        }
    }

    @Test
    void massiveActivationsAreTheTopThreeAndTheLowerMedianOfTheBlockOutput() {
        for (BlockDepth d : DepthStatistics.blocks(whole)) {
            List<Peak> all = new ArrayList<>();
            List<Float> abs = new ArrayList<>();
            for (int s = 0; s < SEQUENCES; s++) {
                float[] out = streams.get(s).get("residual/" + (d.block() + 1));
                for (int i = 0; i < out.length; i++) {
                    all.add(new Peak(Math.abs(out[i]), s, i / 32, i % 32));
                    abs.add(Math.abs(out[i]));
                }
            }
            all.sort((a, b) -> a.abs() != b.abs() ? Float.compare(b.abs(), a.abs())
                    : a.sample() != b.sample() ? a.sample() - b.sample() : a.position() != b.position() ? a.position() - b.position()
                    : a.channel() - b.channel());
            assertEquals(all.get(0), d.top());
            assertArrayEquals(new double[] {all.get(0).abs(), all.get(1).abs(), all.get(2).abs()}, d.top3());
            abs.sort(null);
            float median = abs.get((abs.size() - 1) / 2);   // torch.median: the lower middle value
            float truncated = Float.intBitsToFloat(Float.floatToIntBits(median) & 0xffff0000);
            assertEquals(truncated, d.medianAbs());
            assertEquals(all.get(0).abs() > 100 && all.get(0).abs() > 1000 * truncated, d.massive());
        }
    }

    @Test
    void downProjPeaksAreTheLargestInputAndOutputWithTheirCoordinates() {
        for (BlockDepth d : DepthStatistics.blocks(whole)) {
            assertEquals(maxAbs("down_in/" + d.block(), 48), d.downIn());
            assertEquals(maxAbs("down_out/" + d.block(), 32), d.downOut());
        }
    }

    @Test
    void outlierFeaturesCountBlocksAndPositionsWithAbsAtLeastSix() {
        List<OutlierFeature> features = DepthStatistics.outlierFeatures(whole, 0, 1e-12);
        assertFalse(features.isEmpty(), "the planted outlier features reach |x| >= 6");
        int expected = 0;
        for (Tap tap : new Tap[] {Tap.ATTN_IN, Tap.ATTN_OUT, Tap.MLP_IN, Tap.MLP_ACT}) {
            int width = tap == Tap.MLP_ACT ? 48 : 32;
            for (int c = 0; c < width; c++) {
                List<Integer> blocks = new ArrayList<>();
                long positions = 0;
                for (int b = 0; b < 3; b++) {
                    for (Map<String, float[]> t : taps) {
                        float[] x = t.get(tap.key(b));
                        boolean seen = false;
                        for (int p = 0; p < TOKENS; p++) {
                            seen |= Math.abs(x[p * width + c]) >= 6;
                        }
                        if (seen && !blocks.contains(b)) {
                            blocks.add(b);
                        }
                    }
                }
                for (Map<String, float[]> t : taps) {
                    for (int p = 0; p < TOKENS; p++) {
                        boolean any = false;
                        for (int b = 0; b < 3; b++) {
                            any |= Math.abs(t.get(tap.key(b))[p * width + c]) >= 6;
                        }
                        positions += any ? 1 : 0;
                    }
                }
                if (positions > 0) {
                    expected++;
                    int ch = c;
                    OutlierFeature f = features.stream().filter(x -> x.tap().equals(tap.name()) && x.channel() == ch)
                            .findFirst().orElseThrow(() -> new AssertionError(tap + " channel " + ch));
                    assertEquals(blocks.size() / 3.0, f.blockShare(), 1e-15);
                    assertEquals(positions / (double) (SEQUENCES * TOKENS), f.positionShare(), 1e-15);
                    assertArrayEquals(blocks.stream().sorted().mapToInt(Integer::intValue).toArray(), f.blocks());
                }
            }
        }
        assertEquals(expected, features.size());
        assertTrue(DepthStatistics.outlierFeatures(whole, 1.01, 0).isEmpty());
    }

    /** The same rows, to the bit, from one, two or three shards of the samples. */
    @Test
    void shardsMergeIntoTheSameStatistics() {
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
            DepthSums two = depth(model, 0, 2).merge(depth(model, 2, 4));
            DepthSums three = depth(model, 3, 4).merge(depth(model, 0, 1)).merge(depth(model, 1, 3));
            for (DepthSums d : List.of(two, three)) {
                assertEquals(describe(whole), describe(d));
            }
        }
    }

    private static DepthSums depth(LlamaModel model, int from, int to) {
        int[] samples = java.util.stream.IntStream.range(from, to).toArray();
        return model.forwardWithDepth(windows.subList(from, to), samples, 1, List.of()).depth();
    }

    private static String describe(DepthSums d) {
        StringBuilder s = new StringBuilder();
        DepthStatistics.blocks(d).forEach(b -> s.append(b).append(Arrays.toString(b.top3())).append('\n'));
        DepthStatistics.distances(d).forEach(b -> s.append(b).append('\n'));
        DepthStatistics.outlierFeatures(d, 0, 0).forEach(f -> s.append(f).append(Arrays.toString(f.blocks())).append('\n'));
        return s.toString().replaceAll("\\[[DI]@[0-9a-f]+", "");   // the arrays' identities
    }

    private Peak maxAbs(String key, int width) {
        Peak best = null;
        for (int s = 0; s < SEQUENCES; s++) {
            float[] x = streams.get(s).get(key);
            for (int i = 0; i < x.length; i++) {
                if (best == null || Math.abs(x[i]) > best.abs()) {
                    best = new Peak(Math.abs(x[i]), s, i / width, i % width);
                }
            }
        }
        return best;
    }

    private static float[] row(float[] x, int t) {
        return Arrays.copyOfRange(x, t * 32, (t + 1) * 32);
    }

    private static double cos(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / (Math.sqrt(na) * Math.sqrt(nb));
    }
}
