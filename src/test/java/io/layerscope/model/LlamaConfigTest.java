package io.layerscope.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.Llama1bShapedCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlamaConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void readsLlama32OneBConfig() throws Exception {
        Path file = Files.writeString(tmp.resolve("config.json"), Llama1bShapedCheckpoint.CONFIG_JSON);
        LlamaConfig c = LlamaConfig.read(file);
        assertEquals("llama", c.modelType());
        assertEquals(2048, c.hiddenSize());
        assertEquals(8192, c.intermediateSize());
        assertEquals(16, c.numHiddenLayers());
        assertEquals(32, c.numAttentionHeads());
        assertEquals(8, c.numKeyValueHeads());
        assertEquals(64, c.headDim());
        assertEquals(128256, c.vocabSize());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(new RopeScaling(32.0, 1.0, 4.0, 8192), c.ropeScaling());
        assertEquals(131072, c.maxPositionEmbeddings());
        assertTrue(c.tieWordEmbeddings());
        assertEquals("bfloat16", c.torchDtype());
        assertEquals(2048, c.qDim());
        assertEquals(512, c.kvDim());
    }

    @Test
    void absentOptionalFieldsTakeHuggingFaceDefaults() throws Exception {
        // Llama-2-7B's shape, without head_dim, num_key_value_heads, rope_scaling, rms_norm_eps...
        LlamaConfig c = LlamaConfig.parse(JSON.readTree("{\"model_type\":\"llama\",\"hidden_size\":4096,"
                + "\"intermediate_size\":11008,\"num_hidden_layers\":32,\"num_attention_heads\":32,\"vocab_size\":32000}"), "cfg");
        assertEquals(128, c.headDim());
        assertEquals(32, c.numKeyValueHeads());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta());
        assertNull(c.ropeScaling());
        assertEquals(2048, c.maxPositionEmbeddings());
        assertFalse(c.tieWordEmbeddings());
        assertEquals("float32", c.torchDtype());
    }

    @Test
    void explicitHeadDimWinsOverHiddenOverHeads() throws Exception {
        ObjectNode n = oneB();
        n.put("head_dim", 128);
        assertEquals(128, LlamaConfig.parse(n, "cfg").headDim());
        assertEquals(4096, LlamaConfig.parse(n, "cfg").qDim());
    }

    @Test
    void legacyTypeKeyAndDefaultRopeAreAccepted() throws Exception {
        ObjectNode n = oneB();
        ObjectNode r = (ObjectNode) n.get("rope_scaling");
        r.remove("rope_type");
        r.put("type", "llama3");
        assertEquals(32.0, LlamaConfig.parse(n, "cfg").ropeScaling().factor());
        n.putObject("rope_scaling").put("rope_type", "default");
        assertNull(LlamaConfig.parse(n, "cfg").ropeScaling());
    }

    @Test
    void unsupportedModelTypeNamesTheField() throws Exception {
        ObjectNode n = oneB();
        n.put("model_type", "mistral");
        assertMessage("x/config.json: model_type \"mistral\" is not supported; layerscope reads LLaMA-family"
                + " checkpoints (model_type \"llama\")", n);
        n.remove("model_type");
        assertMessage("x/config.json: no model_type; layerscope reads LLaMA-family checkpoints, whose config.json says"
                + " model_type \"llama\"", n);
    }

    @Test
    void unsupportedRopeTypeNamesTheField() throws Exception {
        ObjectNode n = oneB();
        ((ObjectNode) n.get("rope_scaling")).put("rope_type", "yarn");
        assertMessage("x/config.json: rope_scaling.rope_type \"yarn\" is not supported (layerscope implements"
                + " \"llama3\" and \"default\"; other rope types change the forward pass)", n);
        n.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
        assertMessage("x/config.json: rope_scaling.type \"linear\" is not supported (layerscope implements"
                + " \"llama3\" and \"default\"; other rope types change the forward pass)", n);
    }

    @Test
    void incompleteLlama3ScalingIsRefused() throws Exception {
        ObjectNode n = oneB();
        ((ObjectNode) n.get("rope_scaling")).remove("factor");
        assertMessage("x/config.json: field rope_scaling.factor is missing; it must be a positive finite number", n);
        n = oneB();
        ((ObjectNode) n.get("rope_scaling")).remove("original_max_position_embeddings");
        assertMessage("x/config.json: field rope_scaling.original_max_position_embeddings is missing; it must be a"
                + " positive integer", n);
    }

    /** llama3 scaling ramps between the two wavelengths the factors set: high must exceed low, equal too is refused. */
    @Test
    void llama3HighFreqFactorNotAboveLowFreqFactorIsRefused() throws Exception {
        ObjectNode n = oneB();
        ((ObjectNode) n.get("rope_scaling")).put("high_freq_factor", 1.0);
        assertMessage("x/config.json: rope_scaling.high_freq_factor 1.0 must be larger than rope_scaling.low_freq_factor"
                + " 1.0", n);
        ((ObjectNode) n.get("rope_scaling")).put("high_freq_factor", 0.5);
        assertMessage("x/config.json: rope_scaling.high_freq_factor 0.5 must be larger than rope_scaling.low_freq_factor"
                + " 1.0", n);
    }

    /** The forward has no bias terms: a config with biases is refused, not run without them. */
    @Test
    void projectionBiasesAreRefused() throws Exception {
        String expected = "x/config.json: attention_bias/mlp_bias true is not supported; LLaMA projections have no bias";
        for (String field : new String[] {"attention_bias", "mlp_bias"}) {
            ObjectNode n = oneB();
            n.put(field, true);
            assertMessage(expected, n);
            n.put(field, "false");
            assertMessage("x/config.json: " + field + " is \"false\", but it must be true or false", n);
            n.putNull(field);   // transformers' default, false
            LlamaConfig.parse(n, "x/config.json");
        }
    }

    @Test
    void missingRequiredFieldsAndBadHeadsAreNamed() throws Exception {
        ObjectNode n = oneB();
        n.remove("hidden_size");
        assertMessage("x/config.json: field hidden_size is missing; it must be a positive integer", n);
        n = oneB();
        n.put("num_key_value_heads", 5);
        assertMessage("x/config.json: num_attention_heads 32 is not a multiple of num_key_value_heads 5", n);
        n = oneB();
        n.put("hidden_act", "gelu");
        assertMessage("x/config.json: hidden_act \"gelu\" is not supported (LLaMA uses \"silu\")", n);
    }

    @Test
    void missingOrBrokenFilesAreNamed() throws Exception {
        Path missing = tmp.resolve("config.json");
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> LlamaConfig.read(missing));
        assertEquals(missing + ": missing; a Hugging Face model directory needs config.json", e.getMessage());
        Files.writeString(missing, "{\"model_type\": ");
        e = assertThrows(LayerscopeException.class, () -> LlamaConfig.read(missing));
        // Jackson's words and where, without its note that the source is not shown
        assertEquals(missing + ": not valid JSON (Unexpected end-of-input within/between Object entries at line 1, column 16)",
                e.getMessage());
        Files.writeString(missing, "{\"model_type\": \"llama\"");   // Jackson's message quotes where the object began
        e = assertThrows(LayerscopeException.class, () -> LlamaConfig.read(missing));
        assertEquals(missing + ": not valid JSON (Unexpected end-of-input: expected close marker for Object (start marker at"
                + " line 1, column 1) at line 1, column 23)", e.getMessage());
    }

    /** A pipe would block the read for ever and a device never ends; a file of gigabytes is no config.json. */
    @Test
    void aConfigThatIsNoRegularFileOrHugeIsRefusedUnread() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("as-directory"));
        Path notFile = Files.createDirectory(dir.resolve("config.json"));
        assertEquals(notFile + ": not a regular file (a directory, device, pipe or socket); a config.json is a file",
                assertThrows(LayerscopeException.class, () -> LlamaConfig.read(notFile)).getMessage());
        Path fifo = Files.createDirectory(tmp.resolve("as-fifo")).resolve("config.json");
        if (new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0) {
            assertEquals(fifo + ": not a regular file (a directory, device, pipe or socket); a config.json is a file",
                    assertThrows(LayerscopeException.class, () -> LlamaConfig.read(fifo)).getMessage());
        }
        Path huge = Files.createDirectory(tmp.resolve("huge")).resolve("config.json");
        try (var f = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength((16L << 20) + 1);   // sparse: no disk used
        }
        assertEquals(huge + ": 16777217 bytes, more than a config.json holds (at most 16 MiB); it is not one",
                assertThrows(LayerscopeException.class, () -> LlamaConfig.read(huge)).getMessage());
    }

    /** Every field the forward pass uses is checked for its JSON type and range, with its name and value. */
    @Test
    void everyMalformedNumberIsNamedWithItsValue() throws Exception {
        String[][] cases = {
            {"rms_norm_eps", "\"abc\"", "rms_norm_eps is \"abc\", but it must be a positive finite number"},
            {"rms_norm_eps", "-1e-5", "rms_norm_eps is -1.0E-5, but it must be a positive finite number"},
            {"rms_norm_eps", "0", "rms_norm_eps is 0, but it must be a positive finite number"},
            {"rms_norm_eps", "1e400", "rms_norm_eps is Infinity, but it must be a positive finite number"},
            {"rms_norm_eps", "null", "rms_norm_eps is null, but it must be a positive finite number"},
            {"rope_theta", "0", "rope_theta is 0, but it must be a positive finite number"},
            {"rope_theta", "-500000.0", "rope_theta is -500000.0, but it must be a positive finite number"},
            {"rope_theta", "\"500000\"", "rope_theta is \"500000\", but it must be a positive finite number"},
            {"rope_theta", "1e-300", "rope_theta is 1.0E-300, but it must be a number of at least 1 (the rotary base; models"
                    + " use 10000 to about 1e6)"},
            {"hidden_size", "2048.5", "hidden_size is 2048.5, but it must be a positive integer"},
            {"hidden_size", "2048.0", "hidden_size is 2048.0, but it must be a positive integer"},
            {"hidden_size", "\"2048\"", "hidden_size is \"2048\", but it must be a positive integer"},
            {"intermediate_size", "0", "intermediate_size is 0, but it must be a positive integer"},
            {"num_hidden_layers", "-16", "num_hidden_layers is -16, but it must be a positive integer"},
            {"num_hidden_layers", "4294967296", "num_hidden_layers is 4294967296, but it must be a positive integer of at"
                + " most 2147483647"},
            {"num_attention_heads", "true", "num_attention_heads is true, but it must be a positive integer"},
            {"num_key_value_heads", "0", "num_key_value_heads is 0, but it must be a positive integer"},
            {"head_dim", "[64]", "head_dim is [64], but it must be a positive integer"},
            {"vocab_size", "1.28256e5", "vocab_size is 128256.0, but it must be a positive integer"},
            {"max_position_embeddings", "-5", "max_position_embeddings is -5, but it must be a positive integer"},
            {"max_position_embeddings", "null", "max_position_embeddings is null, but it must be a positive integer"},
            {"tie_word_embeddings", "\"false\"", "tie_word_embeddings is \"false\", but it must be true or false"},
            {"torch_dtype", "16", "torch_dtype is 16, but it must be a string"},
            {"hidden_act", "null", null},
            {"model_type", "1", "model_type is 1, but it must be a string"},
            {"rope_scaling", "\"llama3\"", "rope_scaling is \"llama3\", but it must be an object such as {\"rope_type\":"
                + " \"llama3\", \"factor\": 32.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0,"
                + " \"original_max_position_embeddings\": 8192}, or null"},
        };
        for (String[] c : cases) {
            ObjectNode n = oneB();
            n.set(c[0], JSON.readTree(c[1]));
            if (c[2] == null) {
                LlamaConfig.parse(n, "x/config.json");
            } else {
                assertMessage("x/config.json: " + c[2], n);
            }
        }
        String[][] rope = {
            {"factor", "\"32\"", "rope_scaling.factor is \"32\", but it must be a positive finite number"},
            {"factor", "-2", "rope_scaling.factor is -2, but it must be a positive finite number"},
            {"low_freq_factor", "0", "rope_scaling.low_freq_factor is 0, but it must be a positive finite number"},
            {"original_max_position_embeddings", "8192.5", "rope_scaling.original_max_position_embeddings is 8192.5, but it"
                + " must be a positive integer"},
            {"rope_type", "3", "rope_scaling.rope_type is 3, but it must be a string such as \"llama3\""},
        };
        for (String[] c : rope) {
            ObjectNode n = oneB();
            ((ObjectNode) n.get("rope_scaling")).set(c[0], JSON.readTree(c[1]));
            assertMessage("x/config.json: " + c[2], n);
        }
        ObjectNode n = oneB();
        n.remove("head_dim");
        n.put("num_attention_heads", 4096);
        n.put("num_key_value_heads", 4096);
        assertMessage("x/config.json: num_attention_heads 4096 is larger than hidden_size 2048, so head_dim (hidden_size /"
                + " num_attention_heads, as head_dim is not given) would be 0", n);
    }

    @Test
    void recordedFieldsAreThoseTheForwardUses() throws Exception {
        var m = LlamaConfig.parse(oneB(), "cfg").recorded();
        assertEquals(1e-5, m.get("rms_norm_eps"));
        assertEquals(500000.0, m.get("rope_theta"));
        assertEquals(131072, m.get("max_position_embeddings"));
        assertEquals(java.util.Map.of("rope_type", "llama3", "factor", 32.0, "low_freq_factor", 1.0, "high_freq_factor", 4.0,
                "original_max_position_embeddings", 8192), m.get("rope_scaling"));
    }

    private static ObjectNode oneB() throws Exception {
        return (ObjectNode) JSON.readTree(Llama1bShapedCheckpoint.CONFIG_JSON);
    }

    private static void assertMessage(String expected, ObjectNode config) {
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> LlamaConfig.parse(config, "x/config.json"));
        assertEquals(expected, e.getMessage());
    }
}
