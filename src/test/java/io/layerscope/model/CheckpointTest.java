package io.layerscope.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.Llama1bShapedCheckpoint;
import io.layerscope.fixtures.ProcessCounters;
import java.nio.charset.StandardCharsets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** One decoder layer, hidden 4, written byte by byte: F32 tensors whose k-th element is k + 100*t. */
    private Path handWrittenShardedModel() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("hand"));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"llama\",\"hidden_size\":4,\"intermediate_size\":6,"
                + "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":8,"
                + "\"tie_word_embeddings\":true}");
        String[][] shard1 = {
            {"model.embed_tokens.weight", "8,4"}, {"model.layers.0.input_layernorm.weight", "4"},
            {"model.layers.0.self_attn.q_proj.weight", "4,4"}, {"model.layers.0.self_attn.k_proj.weight", "2,4"},
            {"model.layers.0.self_attn.v_proj.weight", "2,4"}, {"model.layers.0.self_attn.o_proj.weight", "4,4"}};
        String[][] shard2 = {
            {"model.layers.0.post_attention_layernorm.weight", "4"}, {"model.layers.0.mlp.gate_proj.weight", "6,4"},
            {"model.layers.0.mlp.up_proj.weight", "6,4"}, {"model.layers.0.mlp.down_proj.weight", "4,6"},
            {"model.norm.weight", "4"}};
        StringBuilder map = new StringBuilder();
        writeShard(dir.resolve("model-00001-of-00002.safetensors"), shard1, 0, map);
        writeShard(dir.resolve("model-00002-of-00002.safetensors"), shard2, shard1.length, map);
        Files.writeString(dir.resolve(Checkpoint.INDEX_FILE),
                "{\"metadata\":{\"total_size\":0},\"weight_map\":{" + map.substring(1) + "}}");
        return dir;
    }

    private static void writeShard(Path file, String[][] tensors, int firstIndex, StringBuilder map) throws Exception {
        StringBuilder header = new StringBuilder();
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        for (int t = 0; t < tensors.length; t++) {
            int numel = 1;
            for (String d : tensors[t][1].split(",")) {
                numel *= Integer.parseInt(d);
            }
            int begin = data.size();
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(numel * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < numel; k++) {
                b.putFloat(k + 100f * (firstIndex + t));
            }
            data.write(b.array());
            header.append(header.length() == 0 ? "{" : ",").append('"').append(tensors[t][0])
                    .append("\":{\"dtype\":\"F32\",\"shape\":[").append(tensors[t][1]).append("],\"data_offsets\":[")
                    .append(begin).append(',').append(data.size()).append("]}");
            map.append(",\"").append(tensors[t][0]).append("\":\"").append(file.getFileName()).append('"');
        }
        SafetensorsFileTest.writeRaw(file, header.append('}').toString(), data.toByteArray());
    }

    @Test
    void opensAHandWrittenShardedModel() throws Exception {
        Checkpoint c = Checkpoint.open(handWrittenShardedModel());
        assertEquals(2, c.files().size());
        assertEquals(8, c.prunableLayers().size());
        assertEquals("model-00002-of-00002.safetensors",
                c.fileOf("model.layers.0.mlp.up_proj.weight").path().getFileName().toString());
        // up_proj is tensor 8 overall: its elements are 800, 801, ...
        float[] up = c.readFloats("model.layers.0.mlp.up_proj.weight");
        assertEquals(24, up.length);
        assertEquals(800f, up[0]);
        assertEquals(823f, up[23]);
        PrunableLayer head = c.layer("lm_head");
        assertEquals("model.embed_tokens.weight", head.weightTensor());
        assertEquals(8, head.outFeatures());
        assertEquals(DType.F32, c.storedDtype());
    }

    @Test
    void shardsSymlinkedToBlobsAsInTheHuggingFaceCacheAreRead() throws Exception {
        Path dir = handWrittenShardedModel();
        Path blobs = Files.createDirectories(tmp.resolve("blobs"));
        for (String shard : new String[] {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
            Files.move(dir.resolve(shard), blobs.resolve("b" + shard.hashCode()));
            Files.createSymbolicLink(dir.resolve(shard), Path.of("../blobs").resolve("b" + shard.hashCode()));
        }
        assertEquals(800f, Checkpoint.open(dir).readFloats("model.layers.0.mlp.up_proj.weight")[0]);
    }

    @Test
    void aShardNamedInTheIndexThatIsMissingIsNamed() throws Exception {
        Path dir = handWrittenShardedModel();
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertMessage(dir.resolve(Checkpoint.INDEX_FILE) + ": shard model-00002-of-00002.safetensors (for tensor"
                + " model.layers.0.post_attention_layernorm.weight) is missing from " + dir, dir);
    }

    /** The index of {@code dir} with model.norm.weight's shard given as {@code shardJson} (JSON string content). */
    private static Path normWeightIn(Path dir, String shardJson) throws IOException {
        Path index = dir.resolve(Checkpoint.INDEX_FILE);
        Files.writeString(index, Files.readString(index).replace(
                "\"model.norm.weight\":\"model-00002-of-00002.safetensors\"", "\"model.norm.weight\":\"" + shardJson + "\""));
        return index;
    }

    @Test
    void aShardOutsideTheModelDirectoryIsRefused() throws Exception {
        Path dir = handWrittenShardedModel();
        Files.copy(dir.resolve("model-00002-of-00002.safetensors"), tmp.resolve("outside.safetensors"));
        Path index = normWeightIn(dir, "../outside.safetensors");
        assertMessage(index + ": shard \"../outside.safetensors\" for tensor model.norm.weight lies outside the model"
                + " directory; refusing to read it", dir);
    }

    @Test
    void aShardNameWithANulIsRefused() throws Exception {
        Path dir = handWrittenShardedModel();
        Path index = normWeightIn(dir, "a\\u0000b.safetensors");
        assertMessage(index + ": shard \"a?b.safetensors\" for tensor model.norm.weight is not a file name (Nul character"
                + " not allowed)", dir);
    }

    /** An index without a weight_map object names no shard: refused, not read as a model with no tensors. */
    @Test
    void anIndexWithoutAWeightMapObjectIsRefused() throws Exception {
        Path dir = handWrittenShardedModel();
        Path index = dir.resolve(Checkpoint.INDEX_FILE);
        for (String json : new String[] {"{\"metadata\":{\"total_size\":0}}", "{\"weight_map\":null}",
                "{\"weight_map\":[\"model-00001-of-00002.safetensors\"]}", "[]"}) {
            Files.writeString(index, json);
            assertMessage(index + ": has no weight_map object", dir);
        }
    }

    @Test
    void anIndexEntryTheShardDoesNotHoldIsNamed() throws Exception {
        Path dir = handWrittenShardedModel();
        normWeightIn(dir, "model-00001-of-00002.safetensors");
        assertMessage(dir.resolve("model-00001-of-00002.safetensors") + ": the index places tensor model.norm.weight"
                + " here but the file has no such tensor", dir);
    }

    @Test
    void aTensorTheConfigRequiresThatIsAbsentIsNamed() throws Exception {
        Path dir = SyntheticLlama.builder().hidden(32).intermediate(48).layers(2).heads(4).kvHeads(2).vocab(64)
                .shards(3).write(tmp.resolve("m"));
        Path index = dir.resolve(Checkpoint.INDEX_FILE);
        ObjectNode root = (ObjectNode) JSON.readTree(index.toFile());
        ((ObjectNode) root.get("weight_map")).remove("model.layers.1.mlp.down_proj.weight");
        Files.writeString(index, root.toString());
        assertMessage(dir + ": tensor model.layers.1.mlp.down_proj.weight is required by config.json but absent"
                + " from the weights", dir);
    }

    @Test
    void anUntiedModelWithoutLmHeadIsRefused() throws Exception {
        Path dir = SyntheticLlama.builder().hidden(32).intermediate(48).layers(1).heads(4).kvHeads(2).vocab(64)
                .write(tmp.resolve("m"));
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"tie_word_embeddings\" : true", "\"tie_word_embeddings\" : false"));
        assertMessage(dir + ": tensor lm_head.weight is required by config.json but absent from the weights", dir);
    }

    @Test
    void aShapeThatDisagreesWithTheConfigIsNamed() throws Exception {
        Path dir = SyntheticLlama.builder().hidden(32).intermediate(48).layers(2).heads(4).kvHeads(2).vocab(64)
                .shards(2).write(tmp.resolve("m"));
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"intermediate_size\" : 48", "\"intermediate_size\" : 64"));
        String shard = shardOf(dir, "model.layers.0.mlp.gate_proj.weight");
        assertMessage(dir.resolve(shard) + ": tensor model.layers.0.mlp.gate_proj.weight has shape [48, 32] but"
                + " config.json implies [64, 32] (intermediate_size 64, hidden_size 32)", dir);
    }

    @Test
    void moreBlocksInTheConfigThanInTheWeightsAreRefusedBeforeAnythingIsSized() throws Exception {
        Path dir = SyntheticLlama.builder().hidden(32).intermediate(48).layers(2).heads(4).kvHeads(2).vocab(64)
                .write(tmp.resolve("m"));
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"num_hidden_layers\" : 2",
                "\"num_hidden_layers\" : 2147483647"));
        long allocated = ProcessCounters.allocatedBytes(() -> assertMessage(dir + ": config.json gives num_hidden_layers"
                + " 2147483647 but the weights hold blocks 0..1 only (no tensor named model.layers.2.*); the config does"
                + " not belong to these weights", dir));
        // anything sized by 2^31 - 1 blocks would be gigabytes; parsing the config and a header is far below this
        assertTrue(allocated < 64L << 20, allocated + " bytes allocated");
        Files.writeString(config, Files.readString(config).replace("\"vocab_size\" : 64", "\"vocab_size\" : 2147483647"));
        assertMessage(dir.resolve("model.safetensors") + ": tensor model.embed_tokens.weight has shape [64, 32] but"
                + " config.json implies [2147483647, 32] (vocab_size 2147483647, hidden_size 32)", dir);
    }

    @Test
    void f64WeightsAreRefusedWhenOpened() throws Exception {
        Path dir = tmp.resolve("f64");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"llama\",\"hidden_size\":4,\"intermediate_size\":6,"
                + "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"vocab_size\":8,\"tie_word_embeddings\":true}");
        SafetensorsWriter w = new SafetensorsWriter();
        w.add("model.embed_tokens.weight", DType.F64, new long[] {8, 4}, new byte[32 * 8]);
        w.write(dir.resolve("model.safetensors"));
        assertMessage(dir.resolve("model.safetensors") + ": tensor model.embed_tokens.weight has dtype F64; layerscope loads"
                + " BF16, F16 and F32 weights (convert the checkpoint with torch first)", dir);
    }

    @Test
    void theLargestTokenIdIsFoundInVocabOrAddedTokens() throws Exception {
        Path bpe = Files.writeString(tmp.resolve("bpe.json"), "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":7,"
                + "\"content\":\"<s>\",\"special\":true},{\"id\":9,\"content\":\"</s>\"}],\"normalizer\":null,"
                + "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":8},\"merges\":[\"a b\"]}}");
        assertEquals(new TokenizerVocabulary.LargestId("</s>", 9, "added_tokens"), TokenizerVocabulary.largestId(bpe));
        TokenizerVocabulary.check(bpe, 10, "config.json");
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> TokenizerVocabulary.check(bpe, 9, "config.json"));
        assertEquals(bpe + ": token \"</s>\" has id 9 (in added_tokens), but the model's vocab_size is 9 (config.json), so"
                + " its ids run 0..8; this tokenizer does not belong to the model: use the model's own tokenizer.json",
                e.getMessage());
        Path unigram = Files.writeString(tmp.resolve("unigram.json"), "{\"added_tokens\":[],\"model\":{\"type\":"
                + "\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\",0.0],[\"x\",-1.5],[\"yz\",-2.0,[1]]]}}");
        assertEquals(new TokenizerVocabulary.LargestId("yz", 2, "model.vocab"), TokenizerVocabulary.largestId(unigram));
        Path empty = Files.writeString(tmp.resolve("empty.json"), "{\"added_tokens\":[],\"model\":{\"type\":\"BPE\","
                + "\"vocab\":{},\"merges\":[]}}");
        assertEquals(empty + ": lists no token (its model.vocab and added_tokens are empty or absent); tokenizer.json must be"
                + " a Hugging Face fast-tokenizer file", assertThrows(LayerscopeException.class,
                        () -> TokenizerVocabulary.check(empty, 10, "config.json")).getMessage());
    }

    /** A tokenizer.json that is a pipe would block the check for ever: refused unread, as an index that is one. */
    @Test
    void aTokenizerOrIndexThatIsNoRegularFileIsRefusedUnread() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("not-files"));
        Path tokenizer = Files.createDirectory(dir.resolve("tokenizer.json"));
        assertEquals(tokenizer + ": not a regular file (a directory, device, pipe or socket); tokenizer.json must be a"
                + " Hugging Face fast-tokenizer file", assertThrows(LayerscopeException.class,
                        () -> TokenizerVocabulary.check(tokenizer, 10, "config.json")).getMessage());
        Files.writeString(dir.resolve("config.json"), Llama1bShapedCheckpoint.CONFIG_JSON);
        Path index = Files.createDirectory(dir.resolve("model.safetensors.index.json"));
        assertMessage(index + ": not a regular file (a directory, device, pipe or socket); a safetensors index is a file", dir);
        Files.delete(index);
        Files.writeString(index, "{\"weight_map\": {\"model.norm.weight\": \"model-00001-of-00001.safetensors\"}}");
        Files.createDirectory(dir.resolve("model-00001-of-00001.safetensors"));
        assertMessage(index + ": shard model-00001-of-00001.safetensors (for tensor model.norm.weight) is not a regular file"
                + " (a directory, device, pipe or socket)", dir);
    }

    @Test
    void aDirectoryWithoutWeightsIsNamed() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("empty"));
        Files.writeString(dir.resolve("config.json"), Llama1bShapedCheckpoint.CONFIG_JSON);
        assertMessage(dir + ": no weights found; expected model.safetensors or model.safetensors.index.json with its"
                + " shards (.bin and .pth checkpoints are not read: convert them to safetensors)", dir);
    }

    @Test
    void opensALlama1bShapedCheckpointByItsHeaderAlone() throws Exception {
        Path dir = Llama1bShapedCheckpoint.write(tmp.resolve("1b"));
        Checkpoint.open(dir);   // the classes it needs loaded (read from their jars) before counting
        long before = ProcessCounters.bytesRead();
        long faultsBefore = ProcessCounters.pageFaults();
        Checkpoint c = Checkpoint.open(dir);
        long read = ProcessCounters.bytesRead() - before;
        long faults = ProcessCounters.pageFaults() - faultsBefore;
        // the file is 2.47 GB; its header is 16 kB of JSON, config.json a few hundred bytes
        if (before >= 0) {
            assertTrue(read < 1_000_000, read + " bytes read");
        }
        // nor read through a memory map: the weights' pages would fault in, tens of thousands even
        // with the kernel mapping 16 pages a fault
        if (faultsBefore >= 0) {
            assertTrue(faults < 5_000, faults + " page faults");
        }
        SafetensorsFile f = c.files().get(0);
        assertTrue(f.fileSize() > Integer.MAX_VALUE, "the file is over 2 GiB");
        assertEquals(Llama1bShapedCheckpoint.shapes().size(), f.tensors().size());
        assertEquals(113, c.prunableLayers().size());
        TensorInfo embed = c.tensor("model.embed_tokens.weight");
        assertArrayEquals(new long[] {128256, 2048}, embed.shape());
        TensorInfo last = c.tensor("model.norm.weight");
        assertEquals(f.fileSize(), last.end(), "model.norm.weight sorts last and ends the file");
        PrunableLayer down = c.layer("model.layers.15.mlp.down_proj");
        assertEquals(2048, down.outFeatures());
        assertEquals(8192, down.inFeatures());
        assertEquals("model.embed_tokens.weight", c.layer("lm_head").weightTensor());
    }

    @Test
    void anUnknownLayerNameSuggestsTheClosest() throws Exception {
        Checkpoint c = Checkpoint.open(handWrittenShardedModel());
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> c.layer("model.layers.0.mlp.up_prj"));
        assertEquals("no prunable layer named \"model.layers.0.mlp.up_prj\" in " + c.dir() + ". Closest: "
                + "model.layers.0.mlp.up_proj, model.layers.0.mlp.down_proj, model.layers.0.mlp.gate_proj"
                + " (run list-layers to see them all)", e.getMessage());
        // a shortened name: the layers holding its parts first, though far from it by edit distance
        e = assertThrows(LayerscopeException.class, () -> c.layer("layers.0.q_proj"));
        assertTrue(e.getMessage().contains(". Closest: model.layers.0.self_attn.q_proj, "), e.getMessage());
    }

    private static String shardOf(Path dir, String tensor) throws Exception {
        JsonNode map = JSON.readTree(dir.resolve(Checkpoint.INDEX_FILE).toFile()).get("weight_map");
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals(tensor)) {
                return e.getValue().asText();
            }
        }
        throw new AssertionError(tensor + " not in index");
    }

    private static void assertMessage(String expected, Path dir) {
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> Checkpoint.open(dir));
        assertEquals(expected, e.getMessage());
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
