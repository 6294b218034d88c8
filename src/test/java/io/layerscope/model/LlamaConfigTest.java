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
        assertMessage("x/config.json: rope_scaling.factor is missing or not a positive number", n);
    }

    @Test
    void missingRequiredFieldsAndBadHeadsAreNamed() throws Exception {
        ObjectNode n = oneB();
        n.remove("hidden_size");
        assertMessage("x/config.json: field hidden_size is missing or not a positive integer", n);
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
        assertTrue(e.getMessage().startsWith(missing + ": not valid JSON ("), e.getMessage());
    }

    private static ObjectNode oneB() throws Exception {
        return (ObjectNode) JSON.readTree(Llama1bShapedCheckpoint.CONFIG_JSON);
    }

    private static void assertMessage(String expected, ObjectNode config) {
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> LlamaConfig.parse(config, "x/config.json"));
        assertEquals(expected, e.getMessage());
    }
}
