package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.fixtures.Llama1bShapedCheckpoint;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.ModuleTree;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerListingTest {
    @TempDir
    static Path tmp;

    static Checkpoint oneB;

    @BeforeAll
    static void sparseOneB() throws Exception {
        oneB = Checkpoint.open(Llama1bShapedCheckpoint.write(tmp.resolve("1b")));
    }

    @Test
    void layerTypesOfLlama32OneB() {
        String expected = """
                Module types of meta-llama/Llama-3.2-1B (LlamaForCausalLM, as named_modules() lists them):

                Type                  Count  Example
                LlamaForCausalLM          1  (the model itself)
                LlamaModel                1  model
                Embedding                 1  model.embed_tokens
                ModuleList                1  model.layers
                LlamaDecoderLayer        16  model.layers.0
                LlamaAttention           16  model.layers.0.self_attn
                Linear                  113  model.layers.0.self_attn.q_proj
                LlamaMLP                 16  model.layers.0.mlp
                SiLU                     16  model.layers.0.mlp.act_fn
                LlamaRMSNorm             33  model.layers.0.input_layernorm
                LlamaRotaryEmbedding      1  model.rotary_emb

                11 module types, 215 modules.
                """;
        assertEquals(expected, LayerListing.layerTypes("meta-llama/Llama-3.2-1B", ModuleTree.of(oneB.config())));
    }

    @Test
    void listLayersOfLlama32OneB() {
        // 113 layers: positions 0, 113/4 = 28 (block 4, q_proj) and 113/2 = 56 (block 8, q_proj)
        String expected = """
                Prunable Linear layers of meta-llama/Llama-3.2-1B: 113

                Attention Q Projection (16 layers):
                  model.layers.0.self_attn.q_proj
                  model.layers.1.self_attn.q_proj
                  model.layers.2.self_attn.q_proj
                  model.layers.3.self_attn.q_proj
                  model.layers.4.self_attn.q_proj
                  ... and 11 more

                Attention K Projection (16 layers):
                  model.layers.0.self_attn.k_proj
                  model.layers.1.self_attn.k_proj
                  model.layers.2.self_attn.k_proj
                  model.layers.3.self_attn.k_proj
                  model.layers.4.self_attn.k_proj
                  ... and 11 more

                Attention V Projection (16 layers):
                  model.layers.0.self_attn.v_proj
                  model.layers.1.self_attn.v_proj
                  model.layers.2.self_attn.v_proj
                  model.layers.3.self_attn.v_proj
                  model.layers.4.self_attn.v_proj
                  ... and 11 more

                Attention Output Projection (16 layers):
                  model.layers.0.self_attn.o_proj
                  model.layers.1.self_attn.o_proj
                  model.layers.2.self_attn.o_proj
                  model.layers.3.self_attn.o_proj
                  model.layers.4.self_attn.o_proj
                  ... and 11 more

                MLP Gate Projection (16 layers):
                  model.layers.0.mlp.gate_proj
                  model.layers.1.mlp.gate_proj
                  model.layers.2.mlp.gate_proj
                  model.layers.3.mlp.gate_proj
                  model.layers.4.mlp.gate_proj
                  ... and 11 more

                MLP Up Projection (16 layers):
                  model.layers.0.mlp.up_proj
                  model.layers.1.mlp.up_proj
                  model.layers.2.mlp.up_proj
                  model.layers.3.mlp.up_proj
                  model.layers.4.mlp.up_proj
                  ... and 11 more

                MLP Down Projection (16 layers):
                  model.layers.0.mlp.down_proj
                  model.layers.1.mlp.down_proj
                  model.layers.2.mlp.down_proj
                  model.layers.3.mlp.down_proj
                  model.layers.4.mlp.down_proj
                  ... and 11 more

                Language Model Head (1 layer):
                  lm_head

                Example commands for the single-layer job:
                  ./submit.sh layer --model meta-llama/Llama-3.2-1B --layer model.layers.0.self_attn.q_proj
                  ./submit.sh layer --model meta-llama/Llama-3.2-1B --layer model.layers.4.self_attn.q_proj
                  ./submit.sh layer --model meta-llama/Llama-3.2-1B --layer model.layers.8.self_attn.q_proj
                """;
        assertEquals(expected, LayerListing.prunableLayers("meta-llama/Llama-3.2-1B", List.of(), oneB.prunableLayers()));
    }

    @Test
    void exampleCommandsRepeatExtraOptionsAndQuoteWhatTheShellWouldSplit() {
        String text = LayerListing.prunableLayers("/data/my models/llama", List.of("--cache-dir", "/tmp/it's"),
                oneB.prunableLayers().subList(0, 7));
        // 7 layers: positions 0, 1 and 3
        assertEquals(List.of(
                "  ./submit.sh layer --model '/data/my models/llama' --layer model.layers.0.self_attn.q_proj --cache-dir '/tmp/it'\\''s'",
                "  ./submit.sh layer --model '/data/my models/llama' --layer model.layers.0.self_attn.k_proj --cache-dir '/tmp/it'\\''s'",
                "  ./submit.sh layer --model '/data/my models/llama' --layer model.layers.0.self_attn.o_proj --cache-dir '/tmp/it'\\''s'"),
                text.lines().filter(l -> l.startsWith("  ./submit.sh")).toList());
    }
}
