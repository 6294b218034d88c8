package io.layerscope.llamacpp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.layerscope.LayerscopeException;
import io.layerscope.llama.TapSums;
import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The importance matrix as an independent GGUF parser (npm @huggingface/gguf) reads it back. */
class ImportanceMatrixTest {
    static final int HIDDEN = 5;
    static final int INTER = 7;

    @TempDir
    Path tmp;

    /** Two blocks of every kind plus lm_head, as a checkpoint lists them. */
    static List<PrunableLayer> layers() {
        List<PrunableLayer> all = new ArrayList<>();
        for (int b = 0; b < 2; b++) {
            for (LayerKind k : List.of(LayerKind.Q_PROJ, LayerKind.K_PROJ, LayerKind.V_PROJ, LayerKind.O_PROJ,
                    LayerKind.GATE_PROJ, LayerKind.UP_PROJ, LayerKind.DOWN_PROJ)) {
                int in = k == LayerKind.DOWN_PROJ ? INTER : HIDDEN;
                all.add(new PrunableLayer("model.layers." + b + "." + k.name().toLowerCase(), b, k, 3, in, "w"));
            }
        }
        all.add(new PrunableLayer("lm_head", -1, LayerKind.LM_HEAD, 11, HIDDEN, "w"));
        return all;
    }

    /** Hand-made sums: tap t of block b, feature j holds 100 b + 10 t + j + 0.25. */
    static TapSums sums() {
        Map<String, float[]> sums = new LinkedHashMap<>();
        String[] taps = {"ATTN_IN", "ATTN_OUT", "MLP_IN", "MLP_ACT"};
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < taps.length; t++) {
                float[] s = new float[taps[t].equals("MLP_ACT") ? INTER : HIDDEN];
                for (int j = 0; j < s.length; j++) {
                    s[j] = 100 * b + 10 * t + j + 0.25f;
                }
                sums.put(b + "/" + taps[t], s);
            }
        }
        sums.put("final/FINAL_NORM", new float[HIDDEN]);
        return new TapSums(sums, 3, 3 * 4);
    }

    @Test
    void llamaCppReadsTheLayoutOfLlamaImatrix() throws Exception {
        Path file = tmp.resolve("imatrix.gguf");
        try (ImportanceMatrix m = ImportanceMatrix.prepare(file, false, Map.of())) {
            m.write(layers(), sums(), 4, "demo (3 windows of 4 tokens, seed 0)");
            assertEquals(file, m.commit());
        }
        JsonNode g = GgufReader.read(file);
        JsonNode meta = g.get("metadata");
        assertEquals(3, meta.get("version").get("value").asInt());
        assertEquals(28, meta.get("tensor_count").get("value").asInt());
        assertEquals(4, meta.get("kv_count").get("value").asInt());
        assertEquals("STRING", meta.get("general.type").get("type").asText());
        assertEquals("imatrix", meta.get("general.type").get("value").asText());
        assertEquals("ARRAY", meta.get("imatrix.datasets").get("type").asText());
        assertEquals("STRING", meta.get("imatrix.datasets").get("subType").asText());
        assertEquals("demo (3 windows of 4 tokens, seed 0)", meta.get("imatrix.datasets").get("value").get(0).asText());
        assertEquals(1, meta.get("imatrix.datasets").get("value").size());
        assertEquals("UINT32", meta.get("imatrix.chunk_count").get("type").asText());
        assertEquals(3, meta.get("imatrix.chunk_count").get("value").asInt());
        assertEquals("UINT32", meta.get("imatrix.chunk_size").get("type").asText());
        assertEquals(4, meta.get("imatrix.chunk_size").get("value").asInt());

        // llama.cpp's names, sorted as llama-imatrix sorts them; in_sum2 then counts of each; no lm_head
        List<String> names = new ArrayList<>();
        for (int b = 0; b < 2; b++) {
            for (String k : List.of("attn_k", "attn_output", "attn_q", "attn_v", "ffn_down", "ffn_gate", "ffn_up")) {
                names.add("blk." + b + "." + k + ".weight.in_sum2");
                names.add("blk." + b + "." + k + ".weight.counts");
            }
        }
        List<String> got = new ArrayList<>();
        g.get("tensors").forEach(t -> got.add(t.get("name").asText()));
        assertEquals(names, got);
        assertEquals(0, g.get("tensorDataOffset").asLong() % 32);
        // which tap feeds which weight: q, k, v read ATTN_IN (t = 0), o ATTN_OUT (1), gate and up MLP_IN (2), down MLP_ACT (3)
        Map<String, Integer> tapOf = Map.of("attn_q", 0, "attn_k", 0, "attn_v", 0, "attn_output", 1, "ffn_gate", 2,
                "ffn_up", 2, "ffn_down", 3);
        for (JsonNode t : g.get("tensors")) {
            String name = t.get("name").asText();
            assertEquals(0, t.get("dtype").asInt(), name + " is F32");
            assertEquals(0, t.get("offset").asLong() % 32, name + " aligned");
            String[] parts = name.split("\\.");
            int block = Integer.parseInt(parts[1]);
            if (name.endsWith(".counts")) {
                assertEquals("[1,1]", t.get("shape").toString(), name);
                assertEquals(12.0, t.get("values").get(0).asDouble(), name + ": the tokens summed");
            } else {
                int in = parts[2].equals("ffn_down") ? INTER : HIDDEN;
                assertEquals("[" + in + ",1]", t.get("shape").toString(), name);
                for (int j = 0; j < in; j++) {
                    assertEquals(100 * block + 10 * tapOf.get(parts[2]) + j + 0.25, t.get("values").get(j).asDouble(), name + "[" + j + "]");
                }
            }
        }
        // the last tensor ends within the file, padded to the alignment
        JsonNode last = g.get("tensors").get(names.size() - 1);
        assertEquals(g.get("tensorDataOffset").asLong() + last.get("offset").asLong() + 32, g.get("size").asLong());
        assertEquals(List.of(file), listing());
    }

    @Test
    void anExistingMatrixIsReplacedOnlyWithOverwrite() throws Exception {
        Path file = tmp.resolve("imatrix.gguf");
        try (ImportanceMatrix m = ImportanceMatrix.prepare(file, false, Map.of())) {
            m.write(layers(), sums(), 4, "old");
            m.commit();
        }
        byte[] old = Files.readAllBytes(file);
        assertEquals("--imatrix " + file + " already exists; pass --overwrite to replace it (only once the new one is"
                + " complete), or choose another file",
                assertThrows(LayerscopeException.class, () -> ImportanceMatrix.prepare(file, false, Map.of())).getMessage());
        try (ImportanceMatrix m = ImportanceMatrix.prepare(file, true, Map.of())) {
            m.write(layers(), sums(), 4, "new");
            assertArrayEquals(old, Files.readAllBytes(file), "replaced only at commit");
            m.commit();
        }
        assertEquals("new", GgufReader.read(file).get("metadata").get("imatrix.datasets").get("value").get(0).asText());
        assertEquals(List.of(file), listing());
    }

    /** --overwrite replaces an importance matrix and nothing else: not the model's weights a typo names. */
    @Test
    void overwriteRefusesWhatIsNoImportanceMatrix() throws Exception {
        Path text = Files.writeString(tmp.resolve("notes.gguf"), "my notes");
        Path model = Files.write(tmp.resolve("model.gguf"), ggufOfType("model"));
        Path link = Files.createSymbolicLink(tmp.resolve("link.gguf"), tmp.resolve("elsewhere.gguf"));
        Map<Path, String> why = Map.of(text, "it is not a GGUF importance matrix", model, "it is a GGUF file of"
                + " general.type model", link, "it is a symbolic link");
        for (Map.Entry<Path, String> e : why.entrySet()) {
            assertEquals("--overwrite refuses to replace --imatrix " + e.getKey() + ": " + e.getValue() + ", and"
                    + " --overwrite only replaces importance matrices; choose another --imatrix or remove it yourself",
                    assertThrows(LayerscopeException.class, () -> ImportanceMatrix.prepare(e.getKey(), true, Map.of()))
                            .getMessage());
        }
        assertEquals("my notes", Files.readString(text));
        // the same header with general.type imatrix is one, whatever comes before the key
        Path other = Files.write(tmp.resolve("llama.gguf"), ggufOfType("imatrix"));
        ImportanceMatrix.prepare(other, true, Map.of()).close();

        Path modelDir = Files.createDirectories(tmp.resolve("m"));
        Path weights = Files.writeString(modelDir.resolve("model.safetensors"), "weights");
        assertEquals("--imatrix " + weights + " is inside the model directory m; write the importance matrix somewhere"
                + " else", assertThrows(LayerscopeException.class, () -> ImportanceMatrix.prepare(weights, true,
                Map.of("the model directory m", modelDir))).getMessage());
        Path newFile = modelDir.resolve("imatrix.gguf");
        assertThrows(LayerscopeException.class, () -> ImportanceMatrix.prepare(newFile, false,
                Map.of("the model directory m", modelDir)));
        assertEquals("weights", Files.readString(weights));
    }

    /** A file made at the target while the job ran is not replaced: the matrix is kept beside it. */
    @Test
    void aFileThatAppearsWhileTheJobRunsIsKept() throws Exception {
        Path file = tmp.resolve("imatrix.gguf");
        try (ImportanceMatrix m = ImportanceMatrix.prepare(file, false, Map.of())) {
            m.write(layers(), sums(), 4, "demo");
            Files.writeString(file, "someone else's");
            String message = assertThrows(LayerscopeException.class, m::commit).getMessage();
            String prefix = "--imatrix " + file + " appeared while the job ran; the importance matrix is in ";
            assertTrue(message.startsWith(prefix + tmp.resolve("imatrix.gguf.new-")) && message.endsWith(" instead"), message);
            Path aside = Path.of(message.substring(prefix.length(), message.length() - " instead".length()));
            assertEquals("imatrix", GgufReader.read(aside).get("metadata").get("general.type").get("value").asText());
        }
        assertEquals("someone else's", Files.readString(file));
        assertEquals(2, listing().size());

        // with --overwrite too, when what appeared is no importance matrix
        Path other = tmp.resolve("other.gguf");
        try (ImportanceMatrix m = ImportanceMatrix.prepare(other, true, Map.of())) {
            m.write(layers(), sums(), 4, "demo");
            Files.writeString(other, "notes");
            String message = assertThrows(LayerscopeException.class, m::commit).getMessage();
            assertTrue(message.startsWith("--overwrite refuses to replace --imatrix " + other + ": it is not a GGUF"
                    + " importance matrix, and --overwrite only replaces importance matrices; choose another --imatrix or"
                    + " remove it yourself; the importance matrix is in " + tmp.resolve("other.gguf.new-")), message);
        }
        assertEquals("notes", Files.readString(other));
        assertEquals(4, listing().size());
    }

    /**
     * A GGUF header as gguf.cpp writes one, by hand: version 3, no tensors, general.architecture
     * (string), tokenizer.ggml.scores (an array of float32), then general.type.
     */
    private static byte[] ggufOfType(String type) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(256).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("GGUF".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(3).putLong(0).putLong(3);
        ggufString(b, "general.architecture");
        b.putInt(8);
        ggufString(b, "llama");
        ggufString(b, "tokenizer.ggml.scores");
        b.putInt(9).putInt(6).putLong(3).putFloat(0.5f).putFloat(-1f).putFloat(2f);
        ggufString(b, "general.type");
        b.putInt(8);
        ggufString(b, type);
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    private static void ggufString(java.nio.ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        b.putLong(bytes.length).put(bytes);
    }

    @Test
    void badTargetsAreRefusedBeforeTheJob() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("imatrix.gguf"));
        assertEquals("--imatrix " + dir + " is a directory; give a file name such as " + dir.resolve("imatrix.gguf"),
                assertThrows(LayerscopeException.class, () -> ImportanceMatrix.prepare(dir, true, Map.of())).getMessage());
        assertTrue(Files.isDirectory(dir), "a directory is never replaced");
        Path nowhere = tmp.resolve("missing/imatrix.gguf");
        assertEquals("--imatrix " + nowhere + ": the directory " + tmp.resolve("missing") + " does not exist",
                assertThrows(LayerscopeException.class, () -> ImportanceMatrix.prepare(nowhere, false, Map.of())).getMessage());
    }

    @Test
    void onlyLmHeadSelectedWritesNothing() throws Exception {
        Path file = tmp.resolve("imatrix.gguf");
        try (ImportanceMatrix m = ImportanceMatrix.prepare(file, false, Map.of())) {
            List<PrunableLayer> head = layers().stream().filter(l -> l.kind() == LayerKind.LM_HEAD).toList();
            assertEquals("--imatrix needs layers of the decoder blocks, and --layers selected only [lm_head]",
                    assertThrows(LayerscopeException.class, () -> m.write(head, sums(), 4, "demo")).getMessage());
        }
        assertEquals(List.of(), listing());
    }

    @Test
    void anUncommittedFileLeavesNothing() throws Exception {
        try (ImportanceMatrix m = ImportanceMatrix.prepare(tmp.resolve("imatrix.gguf"), false, Map.of())) {
            m.write(layers(), sums(), 4, "demo");
            assertEquals(2, listing().size());   // the temporary file and the lock
        }
        assertEquals(List.of(), listing());
    }

    /** Under the lock no other job writes this file: whatever temporary file is there, a killed job left. */
    @Test
    void killedJobsTemporaryFilesAreClearedUnderTheLock() throws Exception {
        Path old = Files.writeString(tmp.resolve(".imatrix.gguf.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.tmp"), "half");
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(io.layerscope.WholeFiles.ABANDONED).minusSeconds(60)));
        Files.writeString(tmp.resolve(".imatrix.gguf.11111111-2222-3333-4444-555555555555.tmp"), "killed a minute ago");
        Path other = Files.writeString(tmp.resolve(".other.gguf.11111111-2222-3333-4444-555555555555.tmp"), "not its");
        try (ImportanceMatrix m = ImportanceMatrix.prepare(tmp.resolve("imatrix.gguf"), false, Map.of())) {
            assertEquals(List.of(tmp.resolve(".imatrix.gguf.lock"), other), listing());
        }
        assertEquals(List.of(other), listing());
    }

    /** Two jobs writing one --imatrix: the second is refused at its start (with --overwrite the last used to win). */
    @Test
    void aFileAnotherJobIsWritingIsRefused() throws Exception {
        Path file = tmp.resolve("imatrix.gguf");
        try (ImportanceMatrix first = ImportanceMatrix.prepare(file, true, Map.of())) {
            Path lock = tmp.resolve(".imatrix.gguf.lock");
            assertEquals(io.layerscope.OutputLock.owner() + "\n", Files.readString(lock));
            assertEquals("another layerscope job is writing " + file + " (process " + io.layerscope.OutputLock.owner()
                    + " holds the lock " + lock + "); wait for it to finish, or choose another --imatrix",
                    assertThrows(LayerscopeException.class, () -> ImportanceMatrix.prepare(file, true, Map.of()))
                            .getMessage());
        }
        ImportanceMatrix.prepare(file, false, Map.of()).close();   // free again once the first has finished
    }

    private List<Path> listing() throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.sorted().toList();
        }
    }
}
