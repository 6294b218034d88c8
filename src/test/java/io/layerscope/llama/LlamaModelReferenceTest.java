package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.SyntheticLlama;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The DJL forward against the plain-Java {@link ReferenceLlama}: taps position by position, and their sums. */
class LlamaModelReferenceTest {
    @TempDir
    Path tmp;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("GQA 4/2 heads, f32", TinyModels.gqa(DType.F32)),
                Arguments.of("GQA 4/2 heads, bf16", TinyModels.gqa(DType.BF16)),
                Arguments.of("GQA 4/2 heads, f16", TinyModels.gqa(DType.F16)),
                Arguments.of("MQA 4/1 heads, bf16", TinyModels.gqa(DType.BF16).kvHeads(1)),
                Arguments.of("MHA 4/4 heads, no rope scaling, theta 10000, f32",
                        TinyModels.gqa(DType.F32).kvHeads(4).llama3Scaling(false).ropeTheta(10000)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void everyTapAtEveryPositionMatchesTheReference(String name, SyntheticLlama builder) {
        Checkpoint ckpt = Checkpoint.open(builder.write(tmp.resolve("m")));
        int[] window = TinyModels.windows(1, 13, 5).get(0);
        Map<String, double[][]> ref = new ReferenceLlama(ckpt).taps(window, 1);
        for (LlamaModel.Residency residency : LlamaModel.Residency.values()) {
            try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32, 1, residency)) {
                Map<String, float[]> got = model.positionTaps(window);
                assertEquals(List.copyOf(ref.keySet()), List.copyOf(got.keySet()));
                for (String key : ref.keySet()) {
                    assertClose(residency + " " + key, ref.get(key), got.get(key), 1e-4);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void tapSumsAreTheReferenceSumsOfSquares(String name, SyntheticLlama builder) {
        Checkpoint ckpt = Checkpoint.open(builder.write(tmp.resolve("m")));
        List<int[]> windows = TinyModels.windows(4, 11, 9);
        windows.add(TinyModels.windows(1, 6, 10).get(0));
        ReferenceLlama reference = new ReferenceLlama(ckpt);
        Map<String, double[]> expected = referenceSums(reference, windows);
        for (LlamaModel.Residency residency : LlamaModel.Residency.values()) {
            try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32, 1, residency)) {
                TapSums sums = model.forward(windows, 2);
                assertEquals(5, sums.nsamples());
                assertEquals(4 * 11 + 6, sums.ntokens());
                assertEquals(expected.keySet(), sums.keys());
                for (String key : expected.keySet()) {
                    assertRelative(residency + " " + key, expected.get(key), sums.sumSq().get(key), 1e-4);
                }
            }
        }
    }

    /**
     * With distinct KV heads, only HF's mapping (query head j reads KV head j / (nh / nkv)) agrees:
     * the interleaved mapping j % nkv gives a clearly different attention output.
     */
    @Test
    void queryHeadsReadKvHeadJDividedByGroupSize() {
        Checkpoint ckpt = Checkpoint.open(TinyModels.gqa(DType.F32).heads(8).kvHeads(2).headDim(4).write(tmp.resolve("m")));
        int[] window = TinyModels.windows(1, 9, 3).get(0);
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32, 0)) {
            float[] got = model.positionTaps(window).get("0/ATTN_OUT");
            assertClose("0/ATTN_OUT", new ReferenceLlama(ckpt).taps(window, 0).get("0/ATTN_OUT"), got, 1e-4);
            double[][] wrong = new ReferenceLlama(ckpt, true).taps(window, 0).get("0/ATTN_OUT");
            double maxDiff = 0;
            for (int p = 0; p < wrong.length; p++) {
                for (int j = 0; j < wrong[p].length; j++) {
                    maxDiff = Math.max(maxDiff, Math.abs(wrong[p][j] - got[p * wrong[p].length + j]));
                }
            }
            assertTrue(maxDiff > 0.05, "the interleaved KV mapping should differ clearly, max diff " + maxDiff);
        }
    }

    /** Wanda's add_batch, sample by sample in float32, over the reference taps, equals sum / nsamples. */
    @Test
    void scalerRowEqualsWandasRunningMean() {
        Checkpoint ckpt = Checkpoint.open(TinyModels.gqa(DType.BF16).write(tmp.resolve("m")));
        List<int[]> windows = TinyModels.windows(7, 10, 21);
        ReferenceLlama reference = new ReferenceLlama(ckpt);
        List<Map<String, double[][]>> refTaps = windows.stream().map(w -> reference.taps(w, 1)).toList();
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
            TapSums sums = model.forward(windows);
            for (String key : sums.keys()) {
                float[] wanda = wandaScalerRow(refTaps.stream().map(m -> m.get(key)).toList());
                float[] got = sums.scalerRow(key);
                double[] expected = new double[wanda.length];
                for (int j = 0; j < wanda.length; j++) {
                    expected[j] = wanda[j];
                }
                assertRelative(key, expected, got, 1e-5);
            }
        }
    }

    /** Half-precision compute (the GPU default) on the CPU: same taps within half-precision tolerance. */
    @Test
    void float16ComputeAgreesWithinHalfPrecision() {
        Checkpoint ckpt = Checkpoint.open(TinyModels.gqa(DType.BF16).write(tmp.resolve("m")));
        List<int[]> windows = TinyModels.windows(2, 12, 4);
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT16)) {
            assertEquals(ai.djl.ndarray.types.DataType.FLOAT16, model.computeType());
            TapSums sums = model.forward(windows);
            Map<String, double[]> expected = referenceSums(new ReferenceLlama(ckpt), windows);
            for (String key : expected.keySet()) {
                assertRelative(key, expected.get(key), sums.sumSq().get(key), 2e-2);
            }
        }
    }

    /** Wanda's WrappedGPT.add_batch for one Linear, one sequence per call, in float32. */
    static float[] wandaScalerRow(List<double[][]> samples) {
        int in = samples.get(0)[0].length;
        float[] scaler = new float[in];
        int n = 0;
        for (double[][] x : samples) {
            float shrink = (float) ((double) n / (n + 1));
            n += 1;
            for (int j = 0; j < in; j++) {
                float sq = 0;
                for (double[] row : x) {
                    float v = (float) row[j];
                    sq += v * v;
                }
                float norm = (float) Math.sqrt(sq);
                scaler[j] *= shrink;
                scaler[j] += norm * norm / (float) n;
            }
        }
        return scaler;
    }

    static Map<String, double[]> referenceSums(ReferenceLlama reference, List<int[]> windows) {
        Map<String, double[]> sums = new java.util.LinkedHashMap<>();
        for (int[] w : windows) {
            reference.taps(w, reference.lastBlock()).forEach((key, x) -> {
                double[] s = sums.computeIfAbsent(key, k -> new double[x[0].length]);
                for (double[] row : x) {
                    for (int j = 0; j < row.length; j++) {
                        s[j] += row[j] * row[j];
                    }
                }
            });
        }
        return sums;
    }

    /** Elementwise |got - ref| <= tol * max(|ref|, floor), with floor a tenth of the tap's RMS. */
    static void assertClose(String key, double[][] ref, float[] got, double tol) {
        int f = ref[0].length;
        assertEquals(ref.length * f, got.length, key + ": size");
        double ss = 0;
        for (double[] row : ref) {
            for (double v : row) {
                ss += v * v;
            }
        }
        double floor = 0.1 * Math.sqrt(ss / got.length);
        for (int p = 0; p < ref.length; p++) {
            for (int j = 0; j < f; j++) {
                double r = ref[p][j];
                double g = got[p * f + j];
                assertTrue(Math.abs(g - r) <= tol * Math.max(Math.abs(r), floor),
                        key + " position " + p + " feature " + j + ": got " + g + ", reference " + r);
            }
        }
    }

    static void assertRelative(String key, double[] expected, float[] got, double tol) {
        assertEquals(expected.length, got.length, key + ": features");
        for (int j = 0; j < expected.length; j++) {
            assertTrue(Math.abs(got[j] - expected[j]) <= tol * Math.abs(expected[j]),
                    key + " feature " + j + ": got " + got[j] + ", expected " + expected[j]);
        }
    }
}
