package io.layerscope.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.fixtures.Llama1bShapedCheckpoint;
import io.layerscope.model.ModuleTree.Module;
import io.layerscope.model.ModuleTree.TypeCount;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModuleTreeTest {
    @Test
    void listsLlama32OneBAsNamedModulesDoes() throws Exception {
        LlamaConfig c = LlamaConfig.parse(new ObjectMapper().readTree(Llama1bShapedCheckpoint.CONFIG_JSON), "1b");
        ModuleTree t = ModuleTree.of(c);
        // 4 + 13 per decoder layer x 16 + norm, rotary_emb, lm_head
        assertEquals(215, t.modules().size());
        assertEquals(List.of(
                new Module("", "LlamaForCausalLM"),
                new Module("model", "LlamaModel"),
                new Module("model.embed_tokens", "Embedding"),
                new Module("model.layers", "ModuleList"),
                new Module("model.layers.0", "LlamaDecoderLayer"),
                new Module("model.layers.0.self_attn", "LlamaAttention"),
                new Module("model.layers.0.self_attn.q_proj", "Linear"),
                new Module("model.layers.0.self_attn.k_proj", "Linear"),
                new Module("model.layers.0.self_attn.v_proj", "Linear"),
                new Module("model.layers.0.self_attn.o_proj", "Linear"),
                new Module("model.layers.0.mlp", "LlamaMLP"),
                new Module("model.layers.0.mlp.gate_proj", "Linear"),
                new Module("model.layers.0.mlp.up_proj", "Linear"),
                new Module("model.layers.0.mlp.down_proj", "Linear"),
                new Module("model.layers.0.mlp.act_fn", "SiLU"),
                new Module("model.layers.0.input_layernorm", "LlamaRMSNorm"),
                new Module("model.layers.0.post_attention_layernorm", "LlamaRMSNorm"),
                new Module("model.layers.1", "LlamaDecoderLayer")), t.modules().subList(0, 18));
        assertEquals(List.of(
                new Module("model.layers.15.post_attention_layernorm", "LlamaRMSNorm"),
                new Module("model.norm", "LlamaRMSNorm"),
                new Module("model.rotary_emb", "LlamaRotaryEmbedding"),
                new Module("lm_head", "Linear")), t.modules().subList(211, 215));
        assertEquals(List.of(
                new TypeCount("LlamaForCausalLM", 1, ""),
                new TypeCount("LlamaModel", 1, "model"),
                new TypeCount("Embedding", 1, "model.embed_tokens"),
                new TypeCount("ModuleList", 1, "model.layers"),
                new TypeCount("LlamaDecoderLayer", 16, "model.layers.0"),
                new TypeCount("LlamaAttention", 16, "model.layers.0.self_attn"),
                new TypeCount("Linear", 113, "model.layers.0.self_attn.q_proj"),
                new TypeCount("LlamaMLP", 16, "model.layers.0.mlp"),
                new TypeCount("SiLU", 16, "model.layers.0.mlp.act_fn"),
                new TypeCount("LlamaRMSNorm", 33, "model.layers.0.input_layernorm"),
                new TypeCount("LlamaRotaryEmbedding", 1, "model.rotary_emb")), t.typeCounts());
    }

    @Test
    void linearModulesAreThePrunableLayersInTheSameOrder() throws Exception {
        LlamaConfig c = LlamaConfig.parse(new ObjectMapper().readTree(Llama1bShapedCheckpoint.CONFIG_JSON), "1b");
        List<String> linear = ModuleTree.of(c).modules().stream().filter(m -> m.type().equals("Linear")).map(Module::path).toList();
        assertEquals(Checkpoint.enumerateLayers(c).stream().map(PrunableLayer::name).toList(), linear);
    }
}
