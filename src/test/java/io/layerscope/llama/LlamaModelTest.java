package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.layerscope.LayerscopeException;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.PrunableLayer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Batching, sharding, causality, partial loading, errors and native memory of {@link LlamaModel}. */
class LlamaModelTest {
    @TempDir
    static Path tmp;
    static Checkpoint f32;

    @BeforeAll
    static void writeModel() {
        f32 = Checkpoint.open(TinyModels.gqa(DType.F32).write(tmp.resolve("f32")));
    }

    @Test
    void batchesOfThreeEqualOneAtATime() {
        List<int[]> windows = TinyModels.windows(5, 12, 31);
        try (LlamaModel model = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32)) {
            TapSums one = model.forward(windows, 1);
            TapSums three = model.forward(windows, 3);
            assertEquals(one.nsamples(), three.nsamples());
            assertEquals(60, three.ntokens());
            assertEquals(one.keys(), three.keys());
            for (String key : one.keys()) {
                assertRelative(key, one.sumSq().get(key), three.sumSq().get(key), 1e-5);
            }
        }
    }

    @Test
    void twoShardsMergedEqualOneShardOfAllSamples() {
        List<int[]> windows = TinyModels.windows(6, 10, 41);
        try (LlamaModel model = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32)) {
            TapSums whole = model.forward(windows);
            TapSums merged = model.forward(windows.subList(0, 3)).merge(model.forward(windows.subList(3, 6)));
            assertEquals(6, merged.nsamples());
            assertEquals(60, merged.ntokens());
            for (String key : whole.keys()) {
                assertRelative(key, whole.scalerRow(key), merged.scalerRow(key), 1e-6);
            }
        }
    }

    /** Spark runs several tasks against one cached model per executor JVM. */
    @Test
    void concurrentForwardCallsOnOneModelAgreeWithSequentialOnes() throws Exception {
        try (LlamaModel model = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32)) {
            assertConcurrentPassesAgree(model, 1);
        }
    }

    /** {@code rounds} times two forward calls at once, each equal to the same call made alone. */
    static void assertConcurrentPassesAgree(LlamaModel model, int rounds) throws Exception {
        List<int[]> a = TinyModels.windows(3, 12, 101);
        List<int[]> b = TinyModels.windows(3, 7, 102);
        TapSums seqA = model.forward(a);
        TapSums seqB = model.forward(b);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < rounds; round++) {
                var fa = pool.submit(() -> model.forward(a));
                var fb = pool.submit(() -> model.forward(b));
                TapSums parA = fa.get();
                TapSums parB = fb.get();
                for (String key : seqA.keys()) {
                    assertArrayEquals(seqA.sumSq().get(key), parA.sumSq().get(key), key);
                    assertArrayEquals(seqB.sumSq().get(key), parB.sumSq().get(key), key);
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void noWindowsGiveTheEmptySums() {
        try (LlamaModel model = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32, 0)) {
            TapSums none = model.forward(List.of());
            assertEquals(0, none.nsamples());
            assertTrue(none.keys().isEmpty());
            assertEquals(0, model.blocksRun());
        }
    }

    @Test
    void changingTheLastTokenLeavesEarlierPositionsUnchanged() {
        int[] window = TinyModels.windows(1, 10, 51).get(0);
        int[] changed = window.clone();
        changed[9] = (window[9] + 17) % TinyModels.VOCAB;
        try (LlamaModel model = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32)) {
            Map<String, float[]> a = model.positionTaps(window);
            Map<String, float[]> b = model.positionTaps(changed);
            for (String key : a.keySet()) {
                float[] x = a.get(key);
                float[] y = b.get(key);
                int f = x.length / 10;
                double lastRowDiff = 0;
                for (int i = 0; i < x.length; i++) {
                    if (i < 9 * f) {
                        assertEquals(x[i], y[i], 1e-6 * Math.max(1, Math.abs(x[i])), key + " element " + i);
                    } else {
                        lastRowDiff = Math.max(lastRowDiff, Math.abs(x[i] - y[i]));
                    }
                }
                assertTrue(lastRowDiff > 1e-3, key + ": the changed last token should change the last position");
            }
        }
    }

    @Test
    void finalNormTapIsTheSameWithTiedAndUntiedLmHead() {
        Checkpoint tied = Checkpoint.open(TinyModels.gqa(DType.BF16).tied(true).write(tmp.resolve("tied")));
        Checkpoint untied = Checkpoint.open(TinyModels.gqa(DType.BF16).tied(false).write(tmp.resolve("untied")));
        assertEquals("model.embed_tokens.weight", tied.layer("lm_head").weightTensor());
        assertEquals("lm_head.weight", untied.layer("lm_head").weightTensor());
        int[] window = TinyModels.windows(1, 8, 61).get(0);
        try (LlamaModel a = LlamaModel.load(tied, Device.cpu(), ComputeDtype.AUTO);
             LlamaModel b = LlamaModel.load(untied, Device.cpu(), ComputeDtype.AUTO)) {
            String key = untied.layer("lm_head").tapKey();
            assertEquals("final/FINAL_NORM", key);
            assertTrue(a.tapKeys().contains(key) && b.tapKeys().contains(key));
            assertArrayEquals(a.positionTaps(window).get(key), b.positionTaps(window).get(key));
        }
    }

    @Test
    void aModelLoadedToBlockZeroRunsOnlyBlockZero() {
        List<int[]> windows = TinyModels.windows(3, 9, 71);
        try (LlamaModel partial = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32, 0);
             LlamaModel full = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32)) {
            assertEquals(List.of("0/ATTN_IN", "0/ATTN_OUT", "0/MLP_IN", "0/MLP_ACT"), partial.tapKeys());
            TapSums sums = partial.forward(windows, 1);
            assertEquals(3, partial.blocksRun(), "3 batches through block 0 only");
            assertEquals(partial.tapKeys(), List.copyOf(sums.keys()));
            TapSums all = full.forward(windows, 1);
            assertEquals(6, full.blocksRun());
            for (String key : sums.keys()) {
                assertArrayEquals(all.sumSq().get(key), sums.sumSq().get(key), key);
            }
        }
    }

    @Test
    void askingForOneTapStopsAfterItsBlock() {
        List<int[]> windows = TinyModels.windows(2, 9, 81);
        try (LlamaModel full = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32)) {
            PrunableLayer layer = f32.layer("model.layers.0.mlp.down_proj");
            TapSums sums = full.forward(windows, 2, List.of(layer.tapKey()));
            assertEquals(List.of("0/MLP_ACT"), List.copyOf(sums.keys()));
            assertEquals(1, full.blocksRun());
            full.forward(windows, 2, List.of(f32.layer("lm_head").tapKey()));
            assertEquals(3, full.blocksRun());
        }
    }

    @Test
    void badInputGetsAMessageNamingIt() {
        try (LlamaModel model = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32, 0)) {
            LayerscopeException e = assertThrows(LayerscopeException.class,
                    () -> model.forward(List.of(new int[] {1, 2}, new int[] {3, 64, 5})));
            assertEquals("calibration window 1 has token id 64 at position 1, outside the model's vocabulary of 64 tokens;"
                    + " the tokenizer does not match the model (use the model's own tokenizer.json)", e.getMessage());
            e = assertThrows(LayerscopeException.class, () -> model.forward(List.of(new int[0])));
            assertEquals("calibration window 0 is empty; every window needs at least one token", e.getMessage());
            e = assertThrows(LayerscopeException.class, () -> model.forward(List.of(new int[] {1}), 1, List.of("final/FINAL_NORM")));
            assertEquals("tap \"final/FINAL_NORM\" is not available from this model (blocks 0..0 loaded, final norm not loaded);"
                    + " available: 0/ATTN_IN, 0/ATTN_OUT, 0/MLP_IN, 0/MLP_ACT", e.getMessage());
            assertEquals("batch size 0 must be at least 1",
                    assertThrows(IllegalArgumentException.class, () -> model.forward(List.of(new int[] {1}), 0)).getMessage());
        }
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32, 2));
        assertEquals("last block 2 is outside the model in " + f32.dir() + ", which has blocks 0..1", e.getMessage());
    }

    /**
     * Right after loading, the model's manager holds its weights and nothing a load staged: 2 blocks
     * x (2 norms, qkv, o, gate/up, down), the final norm, and the embedding unless it stays as stored
     * (bf16 and f16 in float32 on the CPU).
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16", "F32"})
    void loadingLeavesOnlyTheWeights(DType dtype) {
        Checkpoint ckpt = Checkpoint.open(TinyModels.gqa(dtype).write(tmp.resolve("only-weights-" + dtype)));
        for (ComputeDtype compute : ComputeDtype.values()) {
            try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), compute)) {
                boolean embeddingStored = dtype != DType.F32 && compute != ComputeDtype.FLOAT16;
                assertEquals(embeddingStored ? 13 : 14, model.manager().getManagedArrays().size(), dtype + " as " + compute);
            }
        }
    }

    /** Many batches leave no NDArray behind and the process does not grow. */
    @Test
    void manyBatchesLeakNoNativeMemory() throws IOException {
        List<int[]> windows = TinyModels.windows(4, 16, 91);
        try (LlamaModel model = LlamaModel.load(f32, Device.cpu(), ComputeDtype.FLOAT32)) {
            model.forward(windows, 1);
            model.positionTaps(windows.get(0));
            int liveBefore = model.manager().getManagedArrays().size();
            long rssBefore = rssKb();
            for (int i = 0; i < 40; i++) {
                model.forward(windows, 1 + i % 2);
            }
            model.positionTaps(windows.get(1));
            int liveAfter = model.manager().getManagedArrays().size();
            long rssAfter = rssKb();
            System.out.printf("live NDArrays %d -> %d; VmRSS %d MB -> %d MB over 40 forward calls (120 batches)%n",
                    liveBefore, liveAfter, rssBefore / 1024, rssAfter / 1024);
            assertEquals(liveBefore, liveAfter, "live NDArrays in the model's manager");
            assertTrue(rssAfter - rssBefore < 200 * 1024, "VmRSS grew by " + (rssAfter - rssBefore) / 1024 + " MB");
        }
    }

    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    static void assertRelative(String key, float[] expected, float[] got, double tol) {
        assertEquals(expected.length, got.length, key);
        List<String> bad = new ArrayList<>();
        for (int j = 0; j < expected.length; j++) {
            if (Math.abs(got[j] - expected[j]) > tol * Math.abs(expected[j])) {
                bad.add(j + ": " + got[j] + " vs " + expected[j]);
            }
        }
        assertTrue(bad.isEmpty(), key + " differs at " + bad);
    }
}
