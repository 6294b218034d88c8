package io.layerscope.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoModelTest {
    @TempDir
    static Path shared;

    static Path demo;

    @BeforeAll
    static void generateOnce() {
        demo = DemoModel.ensure(shared.resolve("cache"));
    }

    @Test
    void generatesTheSameBytesEveryTime(@TempDir Path other) throws Exception {
        Path again = DemoModel.ensure(other);
        Map<String, String> first = hashes(demo);
        assertEquals(List.of("c4-demo.json.gz", "config.json", "layerscope-demo.json", "model.safetensors",
                "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"), List.copyOf(first.keySet()));
        assertEquals(first, hashes(again));
        // The bytes of this VERSION. If this fails you changed what the demo generates: bump
        // DemoModel.VERSION (a cache keeps old demo directories) and put the new hashes here.
        assertEquals(Map.of(
                "c4-demo.json.gz", "d0b83dc0ec5c77be53c2e776b76c81edc6855473cd1a1f5e94fb8f9ab13841ba",
                "config.json", "f3b016419faff06c77d277da66ef00d6a59e968df978bf5cd2b8ee15cc3d2b21",
                "layerscope-demo.json", "50b2800d2b0d8fd8423ea821bc371e99877ac0b3f1e9bbc9c4633176db364035",
                "model.safetensors", "b0cb72dd7e74c920963d0ebfd69616a877fffa7c81f87f9f18c03b3f1ed8ac2b",
                "special_tokens_map.json", "d7fbfebf6f24637edd6e44aa39cbc035420afed4d89047e0fc24380b90798c66",
                "tokenizer.json", "3dc1796ef2ba521079a254d31aebea0628d625709bcb31e3b1e8fd7c3cafc2bd",
                "tokenizer_config.json", "f63b9555d15dcea6a8422ca59c0908645f63cb4aaf0c7e0337ca8f63eb8255fe"), first);
        assertEquals(DemoModel.directory(other), again);
        assertEquals(other.resolve("layerscope-demo").resolve(DemoModel.VERSION), again);
    }

    @Test
    void isAValidLlamaCheckpointWithTheDemoSettings() {
        Checkpoint c = Checkpoint.open(demo);
        LlamaConfig cfg = c.config();
        assertEquals(128, cfg.hiddenSize());
        assertEquals(344, cfg.intermediateSize());
        assertEquals(4, cfg.numHiddenLayers());
        assertEquals(8, cfg.numAttentionHeads());
        assertEquals(2, cfg.numKeyValueHeads());
        assertEquals(16, cfg.headDim());
        assertEquals(512, cfg.vocabSize());
        assertEquals(new RopeScaling(32.0, 1.0, 4.0, 8192), cfg.ropeScaling());
        assertEquals(2048, cfg.maxPositionEmbeddings());
        assertTrue(cfg.tieWordEmbeddings());
        assertEquals(DType.BF16, c.storedDtype());
        assertEquals(4 * 7 + 1, c.prunableLayers().size());
        assertEquals("model.embed_tokens.weight", c.layer("lm_head").weightTensor());
    }

    @Test
    void isReusedOnceComplete() throws Exception {
        Path marker = demo.resolve(DemoModel.MARKER);
        var before = Files.getLastModifiedTime(marker);
        assertEquals(demo, DemoModel.ensure(shared.resolve("cache")));
        assertEquals(before, Files.getLastModifiedTime(marker));
    }

    @Test
    void concurrentFirstUsesAgreeAndLeaveNoTemporaries(@TempDir Path cache) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                results.add(pool.submit(() -> DemoModel.ensure(cache)));
            }
            for (Future<Path> f : results) {
                assertEquals(DemoModel.directory(cache), f.get());
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(hashes(demo), hashes(DemoModel.directory(cache)));
        try (Stream<Path> s = Files.list(cache.resolve(DemoModel.DIR_NAME))) {
            assertEquals(List.of(DemoModel.VERSION), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void anIncompleteDirectoryIsReplaced(@TempDir Path cache) throws Exception {
        Path dir = Files.createDirectories(DemoModel.directory(cache));
        Files.writeString(dir.resolve("config.json"), "{half");
        DemoModel.ensure(cache);
        assertEquals(hashes(demo), hashes(dir));
    }

    /** A directory at the demo's place holding anything the demo does not write is a user's: never cleared. */
    @Test
    void anIncompleteDirectoryWithOtherFilesIsLeftAlone(@TempDir Path cache) throws Exception {
        Path dir = Files.createDirectories(DemoModel.directory(cache));
        Files.writeString(dir.resolve("config.json"), "{half");
        Files.writeString(dir.resolve("notes.txt"), "mine");
        io.layerscope.LayerscopeException e = assertThrows(io.layerscope.LayerscopeException.class, () -> DemoModel.ensure(cache));
        assertEquals(dir + " is not a complete demo model (no layerscope-demo.json) and holds notes.txt, which the demo"
                + " does not write; move it away or pass another --cache-dir", e.getMessage());
        assertEquals("mine", Files.readString(dir.resolve("notes.txt")));
        try (Stream<Path> s = Files.list(dir.getParent())) {
            assertEquals(List.of(DemoModel.VERSION), s.map(p -> p.getFileName().toString()).toList(), "nothing beside it");
        }
    }

    @Test
    void shipsTheCalibrationShardByteForByte() throws Exception {
        Path shard = DemoModel.calibrationShard(shared.resolve("cache"));
        try (var in = DemoCorpus.open()) {
            assertArrayEquals(in.readAllBytes(), Files.readAllBytes(shard));
        }
        Path repo = Path.of(System.getProperty("layerscope.repo", "."));
        assertArrayEquals(Files.readAllBytes(repo.resolve("data/demo-c4/c4-demo.json.gz")), Files.readAllBytes(shard));
    }

    @Test
    void djlLoadsTheTokenizerAndPrependsBos() throws Exception {
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder().optTokenizerPath(demo)
                .optTruncation(false).optAddSpecialTokens(true).build()) {
            Encoding e = tok.encode("Hello world");
            long[] ids = e.getIds();
            assertEquals(DemoModel.BOS_ID, ids[0]);
            assertEquals("<|begin_of_text|>", e.getTokens()[0]);
            assertTrue(ids.length > 2 && ids.length <= 12, "ids " + java.util.Arrays.toString(ids));
            for (int i = 1; i < ids.length; i++) {
                assertTrue(ids[i] >= 0 && ids[i] < DemoModel.BOS_ID, "id " + ids[i]);
            }
            assertEquals("Hello world", tok.decode(ids, true));
            String unicode = "Naïve café — 3.14 ≠ π\n\tend";
            assertEquals(unicode, tok.decode(tok.encode(unicode).getIds(), true));

            // Wanda needs documents longer than the window: most demo documents exceed 256 tokens,
            // and a long one is encoded whole (no truncation at 512)
            List<String> docs = DemoCorpus.texts();
            int longer = 0;
            int longest = 0;
            for (String d : docs) {
                int n = tok.encode(d).getIds().length;
                longer += n > 256 ? 1 : 0;
                longest = Math.max(longest, n);
            }
            assertEquals(407, docs.size());
            assertTrue(longer >= 300, longer + " documents longer than 256 tokens");
            assertTrue(longest > 1024, "longest document " + longest + " tokens");
        }
    }

    @Test
    void plantedFeaturesMakeWandaAndMagnitudeDisagreeInBlockZero() {
        // Block 0's q_proj input is RMSNorm(embedding row) * input_layernorm, computed here in plain
        // Java for every token of the vocabulary (each counted once).
        Checkpoint c = Checkpoint.open(demo);
        int h = c.config().hiddenSize();
        int vocab = c.config().vocabSize();
        float[] emb = c.readFloats("model.embed_tokens.weight");
        float[] ln = c.readFloats("model.layers.0.input_layernorm.weight");
        double[] sumSq = new double[h];
        for (int t = 0; t < vocab; t++) {
            double ms = 0;
            for (int j = 0; j < h; j++) {
                ms += (double) emb[t * h + j] * emb[t * h + j];
            }
            double inv = 1 / Math.sqrt(ms / h + c.config().rmsNormEps());
            for (int j = 0; j < h; j++) {
                double x = emb[t * h + j] * inv * ln[j];
                sumSq[j] += x * x;
            }
        }
        // the planted features are the four largest activation norms
        List<Integer> top = java.util.stream.IntStream.range(0, h).boxed()
                .sorted((a, b) -> Double.compare(sumSq[b], sumSq[a])).limit(4).sorted().toList();
        assertEquals(DemoModel.OUTLIER_FEATURES, top);

        float[] w = c.readFloats("model.layers.0.self_attn.q_proj.weight");
        int out = c.layer("model.layers.0.self_attn.q_proj").outFeatures();
        int agree = 0;
        int plantedPrunedByMagnitude = 0;
        int plantedPrunedByWanda = 0;
        for (int i = 0; i < out; i++) {
            final int row = i;
            boolean[] byMag = prunedHalf(h, j -> Math.abs(w[row * h + j]));
            boolean[] byWanda = prunedHalf(h, j -> Math.abs(w[row * h + j]) * Math.sqrt(sumSq[j]));
            for (int j = 0; j < h; j++) {
                agree += byMag[j] == byWanda[j] ? 1 : 0;
            }
            for (int f : DemoModel.OUTLIER_FEATURES) {
                plantedPrunedByMagnitude += byMag[f] ? 1 : 0;
                plantedPrunedByWanda += byWanda[f] ? 1 : 0;
            }
        }
        double agreement = agree / (double) (out * h);
        assertTrue(agreement < 0.85, "Wanda and magnitude masks agree on " + agreement);
        // magnitude prunes the planted columns about half the time, Wanda almost never
        assertTrue(plantedPrunedByMagnitude > out, plantedPrunedByMagnitude + " of " + 4 * out);
        assertTrue(plantedPrunedByWanda * 20 < plantedPrunedByMagnitude, plantedPrunedByWanda + " of " + 4 * out);
    }

    /** Per-row 50% mask: the in/2 smallest scores (stable: lower column first among ties). */
    private static boolean[] prunedHalf(int in, java.util.function.IntToDoubleFunction score) {
        Integer[] cols = new Integer[in];
        for (int j = 0; j < in; j++) {
            cols[j] = j;
        }
        java.util.Arrays.sort(cols, (a, b) -> Double.compare(score.applyAsDouble(a), score.applyAsDouble(b)));
        boolean[] pruned = new boolean[in];
        for (int k = 0; k < in / 2; k++) {
            pruned[cols[k]] = true;
        }
        return pruned;
    }

    static Map<String, String> hashes(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                out.put(p.getFileName().toString(),
                        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        }
        return out;
    }
}
