package io.layerscope.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The fields of a Hugging Face LLaMA {@code config.json} that the forward pass and the layer
 * catalog use, with Hugging Face's defaults for absent optional fields ({@code head_dim} =
 * hidden_size / num_attention_heads, {@code num_key_value_heads} = num_attention_heads,
 * {@code rms_norm_eps} 1e-6, {@code rope_theta} 10000, {@code tie_word_embeddings} false).
 * {@code ropeScaling} is null when the config has none (or type "default").
 *
 * <pre>{@code
 * LlamaConfig c = LlamaConfig.read(dir.resolve("config.json"));
 * int kvDim = c.kvDim();   // 512 for Llama-3.2-1B (8 KV heads x head_dim 64)
 * }</pre>
 */
public record LlamaConfig(
        String modelType,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        int vocabSize,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        String torchDtype,
        boolean attentionBias,
        boolean mlpBias) implements Serializable {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static LlamaConfig read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new LayerscopeException(file + ": missing; a Hugging Face model directory needs config.json");
        } catch (IOException e) {
            throw new LayerscopeException(file + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        return parse(root, file.toString());
    }

    public static LlamaConfig parse(JsonNode c, String where) {
        if (c == null || !c.isObject()) {
            throw new LayerscopeException(where + ": not a JSON object");
        }
        String modelType = c.path("model_type").asText("");
        if (!modelType.equals("llama")) {
            throw new LayerscopeException(where + ": model_type \"" + modelType
                    + "\" is not supported; layerscope reads LLaMA-family checkpoints (model_type \"llama\")");
        }
        String act = c.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new LayerscopeException(where + ": hidden_act \"" + act + "\" is not supported (LLaMA uses \"silu\")");
        }
        int hidden = required(c, "hidden_size", where);
        int heads = required(c, "num_attention_heads", where);
        int kvHeads = present(c, "num_key_value_heads") ? required(c, "num_key_value_heads", where) : heads;
        int headDim = present(c, "head_dim") ? required(c, "head_dim", where) : hidden / heads;
        if (heads % kvHeads != 0) {
            throw new LayerscopeException(where + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new LayerscopeException(where + ": head_dim " + headDim + " must be even for rotary embeddings");
        }
        boolean mlpBias = c.path("mlp_bias").asBoolean(false);
        boolean attnBias = c.path("attention_bias").asBoolean(false);
        if (mlpBias || attnBias) {
            throw new LayerscopeException(where + ": attention_bias/mlp_bias true is not supported; LLaMA projections have no bias");
        }
        return new LlamaConfig(
                modelType,
                hidden,
                required(c, "intermediate_size", where),
                required(c, "num_hidden_layers", where),
                heads,
                kvHeads,
                headDim,
                required(c, "vocab_size", where),
                c.path("rms_norm_eps").asDouble(1e-6),
                c.path("rope_theta").asDouble(10000.0),
                ropeScaling(c.get("rope_scaling"), where),
                c.path("max_position_embeddings").asInt(2048),
                c.path("tie_word_embeddings").asBoolean(false),
                c.path("torch_dtype").asText(c.path("dtype").asText("float32")),
                false,
                false);
    }

    private static boolean present(JsonNode c, String field) {
        return c.has(field) && !c.get(field).isNull();
    }

    private static int required(JsonNode c, String field, String where) {
        JsonNode v = c.get(field);
        if (v == null || !v.canConvertToInt() || v.asInt() <= 0) {
            throw new LayerscopeException(where + ": field " + field + " is missing or not a positive integer");
        }
        return v.asInt();
    }

    private static RopeScaling ropeScaling(JsonNode r, String where) {
        if (r == null || r.isNull()) {
            return null;
        }
        // transformers writes "rope_type"; configs from before 4.43 say "type"
        String field = r.has("rope_type") ? "rope_type" : "type";
        String type = r.path(field).asText("");
        if (type.equals("default")) {
            return null;
        }
        if (!type.equals("llama3")) {
            throw new LayerscopeException(where + ": rope_scaling." + field + " \"" + type
                    + "\" is not supported (layerscope implements \"llama3\" and \"default\"; other rope types change the forward pass)");
        }
        double factor = positive(r, "factor", where);
        double low = positive(r, "low_freq_factor", where);
        double high = positive(r, "high_freq_factor", where);
        if (high <= low) {
            throw new LayerscopeException(where + ": rope_scaling.high_freq_factor " + high
                    + " must be larger than rope_scaling.low_freq_factor " + low);
        }
        JsonNode orig = r.get("original_max_position_embeddings");
        if (orig == null || !orig.canConvertToInt() || orig.asInt() <= 0) {
            throw new LayerscopeException(where + ": rope_scaling.original_max_position_embeddings is missing or not a positive integer");
        }
        return new RopeScaling(factor, low, high, orig.asInt());
    }

    private static double positive(JsonNode r, String field, String where) {
        JsonNode v = r.get(field);
        if (v == null || !v.isNumber() || !(v.asDouble() > 0)) {
            throw new LayerscopeException(where + ": rope_scaling." + field + " is missing or not a positive number");
        }
        return v.asDouble();
    }

    public int kvDim() {
        return numKeyValueHeads * headDim;
    }

    public int qDim() {
        return numAttentionHeads * headDim;
    }
}
