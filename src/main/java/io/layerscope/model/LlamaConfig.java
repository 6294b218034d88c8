package io.layerscope.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.LayerscopeException;
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
        String torchDtype) implements Serializable {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Far above any model's config.json (a few kB). */
    static final long MAX_BYTES = 16L << 20;

    public static LlamaConfig read(Path file) {
        JsonNode root;
        try {
            root = SmallJsonFile.read(file, MAX_BYTES, "a config.json");
        } catch (NoSuchFileException e) {
            throw new LayerscopeException(file + ": missing; a Hugging Face model directory needs config.json");
        }
        return parse(root, file.toString());
    }

    public static LlamaConfig parse(JsonNode c, String where) {
        if (c == null || !c.isObject()) {
            throw new LayerscopeException(where + ": not a JSON object");
        }
        String modelType = string(c, "model_type", "", where);
        if (!c.has("model_type")) {
            throw new LayerscopeException(where + ": no model_type; layerscope reads LLaMA-family checkpoints, whose"
                    + " config.json says model_type \"llama\"");
        }
        if (!modelType.equals("llama")) {
            throw new LayerscopeException(where + ": model_type \"" + modelType
                    + "\" is not supported; layerscope reads LLaMA-family checkpoints (model_type \"llama\")");
        }
        String act = string(c, "hidden_act", "silu", where);
        if (!act.equals("silu")) {
            throw new LayerscopeException(where + ": hidden_act \"" + act + "\" is not supported (LLaMA uses \"silu\")");
        }
        int hidden = required(c, "hidden_size", where);
        int heads = required(c, "num_attention_heads", where);
        // transformers takes null for these two as "not given"
        int kvHeads = present(c, "num_key_value_heads") ? required(c, "num_key_value_heads", where) : heads;
        int headDim;
        if (present(c, "head_dim")) {
            headDim = required(c, "head_dim", where);
        } else {
            headDim = hidden / heads;
            if (headDim == 0) {
                throw new LayerscopeException(where + ": num_attention_heads " + heads + " is larger than hidden_size "
                        + hidden + ", so head_dim (hidden_size / num_attention_heads, as head_dim is not given) would be 0");
            }
        }
        if (heads % kvHeads != 0) {
            throw new LayerscopeException(where + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new LayerscopeException(where + ": head_dim " + headDim + " must be even for rotary embeddings");
        }
        if ((long) heads * headDim > Integer.MAX_VALUE) {
            throw new LayerscopeException(where + ": num_attention_heads " + heads + " x head_dim " + headDim
                    + " is more than " + Integer.MAX_VALUE + " features; no LLaMA checkpoint is that wide");
        }
        boolean mlpBias = bool(c, "mlp_bias", false, where);
        boolean attnBias = bool(c, "attention_bias", false, where);
        if (mlpBias || attnBias) {
            throw new LayerscopeException(where + ": attention_bias/mlp_bias true is not supported; LLaMA projections have no bias");
        }
        String dtype = present(c, "torch_dtype") ? string(c, "torch_dtype", "float32", where)
                : string(c, "dtype", "float32", where);
        return new LlamaConfig(
                modelType,
                hidden,
                required(c, "intermediate_size", where),
                required(c, "num_hidden_layers", where),
                heads,
                kvHeads,
                headDim,
                required(c, "vocab_size", where),
                positiveNumber(c, "rms_norm_eps", 1e-6, "", where),
                ropeTheta(c, where),
                ropeScaling(c.get("rope_scaling"), where),
                c.has("max_position_embeddings") ? required(c, "max_position_embeddings", where) : 2048,
                bool(c, "tie_word_embeddings", false, where),
                dtype);
    }

    private static boolean present(JsonNode c, String field) {
        return c.has(field) && !c.get(field).isNull();
    }

    /**
     * A positive int: a JSON integer (not 16.0, not "16") from 1 to 2^31-1. The message names the
     * field and quotes the value as written, so a typo is found at once instead of being truncated
     * or replaced by a default.
     */
    private static int required(JsonNode c, String field, String where) {
        return positiveInt(c.get(field), field, where);
    }

    private static int positiveInt(JsonNode v, String field, String where) {
        if (v == null) {
            throw new LayerscopeException(where + ": field " + field + " is missing; it must be a positive integer");
        }
        if (!v.isIntegralNumber() || v.bigIntegerValue().signum() <= 0) {
            throw invalid(where, field, v, "a positive integer");
        }
        if (!v.canConvertToInt()) {
            throw invalid(where, field, v, "a positive integer of at most " + Integer.MAX_VALUE);
        }
        return v.intValue();
    }

    /** A finite number > 0; {@code fallback} when the field is absent (null is not absent: transformers would fail on it). */
    private static double positiveNumber(JsonNode c, String field, double fallback, String prefix, String where) {
        JsonNode v = c.get(field);
        if (v == null) {
            if (Double.isNaN(fallback)) {
                throw new LayerscopeException(where + ": field " + prefix + field + " is missing; it must be a positive finite number");
            }
            return fallback;
        }
        if (!v.isNumber() || !Double.isFinite(v.doubleValue()) || !(v.doubleValue() > 0)) {
            throw invalid(where, prefix + field, v, "a positive finite number");
        }
        return v.doubleValue();
    }

    /**
     * The rotary base: at least 1. Below it the frequencies theta^(-2i/d) exceed 1 radian a token and
     * grow as theta shrinks, until the angles overflow float32 (1e-300: inf and NaN in every attention
     * layer, which the forward would blame on the weights); models use 10000 to about 1e6.
     */
    private static double ropeTheta(JsonNode c, String where) {
        double theta = positiveNumber(c, "rope_theta", 10000.0, "", where);
        if (theta < 1) {
            throw invalid(where, "rope_theta", c.get("rope_theta"), "a number of at least 1 (the rotary base; models use"
                    + " 10000 to about 1e6)");
        }
        return theta;
    }

    private static String string(JsonNode c, String field, String fallback, String where) {
        JsonNode v = c.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw invalid(where, field, v, "a string");
        }
        return v.textValue();
    }

    private static boolean bool(JsonNode c, String field, boolean fallback, String where) {
        JsonNode v = c.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw invalid(where, field, v, "true or false");
        }
        return v.booleanValue();
    }

    private static LayerscopeException invalid(String where, String field, JsonNode v, String wanted) {
        return new LayerscopeException(where + ": " + field + " is " + quoted(v) + ", but it must be " + wanted);
    }

    /** The value as JSON, cut to 60 characters. */
    static String quoted(JsonNode v) {
        String s = v.isNumber() ? v.asText() : v.toString();   // 1e400 reads as Infinity
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    private static RopeScaling ropeScaling(JsonNode r, String where) {
        if (r == null || r.isNull()) {
            return null;
        }
        if (!r.isObject()) {
            throw invalid(where, "rope_scaling", r, "an object such as {\"rope_type\": \"llama3\", \"factor\": 32.0,"
                    + " \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192},"
                    + " or null");
        }
        // transformers writes "rope_type"; configs from before 4.43 say "type"
        String field = r.has("rope_type") ? "rope_type" : "type";
        JsonNode typeNode = r.get(field);
        if (typeNode != null && !typeNode.isTextual()) {
            throw invalid(where, "rope_scaling." + field, typeNode, "a string such as \"llama3\"");
        }
        String type = typeNode == null ? "" : typeNode.textValue();
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
        if (orig == null) {
            throw new LayerscopeException(where + ": field rope_scaling.original_max_position_embeddings is missing; it must"
                    + " be a positive integer");
        }
        return new RopeScaling(factor, low, high, positiveInt(orig, "rope_scaling.original_max_position_embeddings", where));
    }

    private static double positive(JsonNode r, String field, String where) {
        return positiveNumber(r, field, Double.NaN, "rope_scaling.", where);
    }

    /** The fields the forward pass uses, by their config.json names, for run.json. */
    public java.util.Map<String, Object> recorded() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("hidden_size", hiddenSize);
        m.put("intermediate_size", intermediateSize);
        m.put("num_hidden_layers", numHiddenLayers);
        m.put("num_attention_heads", numAttentionHeads);
        m.put("num_key_value_heads", numKeyValueHeads);
        m.put("head_dim", headDim);
        m.put("vocab_size", vocabSize);
        m.put("rms_norm_eps", rmsNormEps);
        m.put("rope_theta", ropeTheta);
        if (ropeScaling == null) {
            m.put("rope_scaling", null);
        } else {
            java.util.Map<String, Object> r = new java.util.LinkedHashMap<>();
            r.put("rope_type", "llama3");
            r.put("factor", ropeScaling.factor());
            r.put("low_freq_factor", ropeScaling.lowFreqFactor());
            r.put("high_freq_factor", ropeScaling.highFreqFactor());
            r.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            m.put("rope_scaling", r);
        }
        m.put("max_position_embeddings", maxPositionEmbeddings);
        m.put("tie_word_embeddings", tieWordEmbeddings);
        m.put("torch_dtype", torchDtype);
        return m;
    }

    public int kvDim() {
        return numKeyValueHeads * headDim;
    }

    public int qDim() {
        return numAttentionHeads * headDim;
    }
}
