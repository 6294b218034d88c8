package io.layerscope.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The modules of Hugging Face's {@code LlamaForCausalLM} (transformers 4.48 and later) in the order
 * and with the names {@code model.named_modules()} yields, derived from the config alone. A tied
 * {@code lm_head} is still listed: it is its own Linear module sharing the embedding's parameter.
 *
 * <pre>{@code
 * ModuleTree t = ModuleTree.of(config);
 * t.modules().get(0);     // Module("", "LlamaForCausalLM")
 * t.typeCounts();         // LlamaForCausalLM 1, LlamaModel 1, Embedding 1, ..., Linear 113 (for Llama-3.2-1B), ...
 * }</pre>
 */
public final class ModuleTree {
    /** One entry of named_modules(): the module path ("" for the root) and its class name. */
    public record Module(String path, String type) {
    }

    /** A module class, how many modules have it, and the path of the first one. */
    public record TypeCount(String type, int count, String example) {
    }

    private final List<Module> modules;

    private ModuleTree(List<Module> modules) {
        this.modules = Collections.unmodifiableList(modules);
    }

    public static ModuleTree of(LlamaConfig config) {
        List<Module> m = new ArrayList<>();
        m.add(new Module("", "LlamaForCausalLM"));
        m.add(new Module("model", "LlamaModel"));
        m.add(new Module("model.embed_tokens", "Embedding"));
        m.add(new Module("model.layers", "ModuleList"));
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String p = "model.layers." + i;
            m.add(new Module(p, "LlamaDecoderLayer"));
            m.add(new Module(p + ".self_attn", "LlamaAttention"));
            for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "o_proj"}) {
                m.add(new Module(p + ".self_attn." + proj, "Linear"));
            }
            m.add(new Module(p + ".mlp", "LlamaMLP"));
            for (String proj : new String[] {"gate_proj", "up_proj", "down_proj"}) {
                m.add(new Module(p + ".mlp." + proj, "Linear"));
            }
            m.add(new Module(p + ".mlp.act_fn", "SiLU"));
            m.add(new Module(p + ".input_layernorm", "LlamaRMSNorm"));
            m.add(new Module(p + ".post_attention_layernorm", "LlamaRMSNorm"));
        }
        m.add(new Module("model.norm", "LlamaRMSNorm"));
        m.add(new Module("model.rotary_emb", "LlamaRotaryEmbedding"));
        m.add(new Module("lm_head", "Linear"));
        return new ModuleTree(m);
    }

    /** All modules in named_modules() order. */
    public List<Module> modules() {
        return modules;
    }

    /** One entry per module class, in order of first appearance. */
    public List<TypeCount> typeCounts() {
        Map<String, int[]> counts = new LinkedHashMap<>();
        Map<String, String> examples = new LinkedHashMap<>();
        for (Module mod : modules) {
            counts.computeIfAbsent(mod.type(), t -> new int[1])[0]++;
            examples.putIfAbsent(mod.type(), mod.path());
        }
        List<TypeCount> out = new ArrayList<>();
        counts.forEach((type, n) -> out.add(new TypeCount(type, n[0], examples.get(type))));
        return out;
    }
}
