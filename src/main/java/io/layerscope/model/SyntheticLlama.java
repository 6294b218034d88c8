package io.layerscope.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Deterministic generator of LLaMA checkpoints in Hugging Face format (config.json and real
 * safetensors files, optionally sharded with an index). The same builder settings give the same
 * bytes on every machine: each tensor draws from its own {@link SplittableRandom} seeded from the
 * builder seed and the tensor name. Used for the demo model, test fixtures and benchmarks.
 *
 * <pre>{@code
 * SyntheticLlama.builder().hidden(64).intermediate(176).layers(2).heads(4).kvHeads(2)
 *     .vocab(512).outlierFeatures(3, 17).write(dir);
 * }</pre>
 *
 * Planted outlier features: the input_layernorm and post_attention_layernorm weights are scaled up
 * at these hidden features (and the embedding columns too), so the activations feeding q/k/v and
 * gate/up are large there; the Wanda metric then ranks those columns differently from |W|.
 */
public final class SyntheticLlama {
    private int hidden = 64;
    private int intermediate = 176;
    private int layers = 2;
    private int heads = 4;
    private int kvHeads = 2;
    private Integer headDim;
    private int vocab = 512;
    private int maxPositions = 2048;
    private double ropeTheta = 500000.0;
    private boolean llama3Scaling = true;
    private boolean tied = true;
    private DType dtype = DType.BF16;
    private long seed = 0;
    private int shards = 1;
    private int[] outlierFeatures = new int[0];
    private float outlierScale = 12f;
    private double weightStd = 0.05;
    private double normSpread = 0;
    private int bosTokenId = 0;
    private int eosTokenId = 1;
    /** Edits applied after the random draws: a tensor's entries from..to-1 multiplied by factor, or set. */
    private final List<Edit> edits = new ArrayList<>();

    private record Edit(String tensor, int from, int to, float factor, Float value) {
    }

    private SyntheticLlama() {
    }

    public static SyntheticLlama builder() {
        return new SyntheticLlama();
    }

    public SyntheticLlama hidden(int v) { hidden = v; return this; }
    public SyntheticLlama intermediate(int v) { intermediate = v; return this; }
    public SyntheticLlama layers(int v) { layers = v; return this; }
    public SyntheticLlama heads(int v) { heads = v; return this; }
    public SyntheticLlama kvHeads(int v) { kvHeads = v; return this; }
    public SyntheticLlama headDim(int v) { headDim = v; return this; }
    public SyntheticLlama vocab(int v) { vocab = v; return this; }
    public SyntheticLlama maxPositions(int v) { maxPositions = v; return this; }
    public SyntheticLlama ropeTheta(double v) { ropeTheta = v; return this; }
    /** llama3 rope scaling with Llama-3.2's settings (factor 32, 1, 4, 8192); off: no rope_scaling. */
    public SyntheticLlama llama3Scaling(boolean v) { llama3Scaling = v; return this; }
    public SyntheticLlama tied(boolean v) { tied = v; return this; }
    public SyntheticLlama dtype(DType v) { dtype = v; return this; }
    public SyntheticLlama seed(long v) { seed = v; return this; }
    public SyntheticLlama shards(int v) { shards = v; return this; }
    public SyntheticLlama outlierFeatures(int... v) { outlierFeatures = v.clone(); return this; }
    public SyntheticLlama outlierScale(float v) { outlierScale = v; return this; }
    public SyntheticLlama weightStd(double v) { weightStd = v; return this; }
    /**
     * Spread of the decoder layers' RMSNorm weights across features: each feature's weight is also
     * multiplied by exp(sigma * z), z standard normal (0, the default, leaves them as they were). It makes
     * the activation norms of q/k/v and gate/up inputs differ between features, as in trained models.
     */
    public SyntheticLlama normSpread(double sigma) { normSpread = sigma; return this; }
    /** Token ids written to config.json as bos_token_id / eos_token_id (default 0 and 1). */
    public SyntheticLlama specialTokenIds(int bos, int eos) { bosTokenId = bos; eosTokenId = eos; return this; }

    /** Multiplies row {@code row} of a 2-D weight tensor of {@code columns} columns by {@code factor} (a planted spike). */
    public SyntheticLlama scaleRow(String tensor, int row, int columns, float factor) {
        edits.add(new Edit(tensor, row * columns, (row + 1) * columns, factor, null));
        return this;
    }

    /** Sets entry [row, column] of a 2-D weight tensor of {@code columns} columns (a planted super weight). */
    public SyntheticLlama plant(String tensor, int row, int column, int columns, float value) {
        edits.add(new Edit(tensor, row * columns + column, row * columns + column + 1, 1f, value));
        return this;
    }

    public int hidden() { return hidden; }
    public int vocab() { return vocab; }

    /** The config.json this builder writes. */
    public ObjectNode configJson() {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("attention_bias", false);
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", bosTokenId);
        c.put("eos_token_id", eosTokenId);
        c.put("head_dim", headDim != null ? headDim : hidden / heads);
        c.put("hidden_act", "silu");
        c.put("hidden_size", hidden);
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", intermediate);
        c.put("max_position_embeddings", maxPositions);
        c.put("mlp_bias", false);
        c.put("model_type", "llama");
        c.put("num_attention_heads", heads);
        c.put("num_hidden_layers", layers);
        c.put("num_key_value_heads", kvHeads);
        c.put("rms_norm_eps", 1e-5);
        if (llama3Scaling) {
            ObjectNode r = c.putObject("rope_scaling");
            r.put("factor", 32.0);
            r.put("high_freq_factor", 4.0);
            r.put("low_freq_factor", 1.0);
            r.put("original_max_position_embeddings", 8192);
            r.put("rope_type", "llama3");
        } else {
            c.putNull("rope_scaling");
        }
        c.put("rope_theta", ropeTheta);
        c.put("tie_word_embeddings", tied);
        c.put("torch_dtype", switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        });
        c.put("use_cache", true);
        c.put("vocab_size", vocab);
        return c;
    }

    /** Writes config.json and the weights into {@code dir} (created if needed). Returns {@code dir}. */
    public Path write(Path dir) {
        try {
            Files.createDirectories(dir);
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            Files.writeString(dir.resolve("config.json"), json.writeValueAsString(configJson()) + "\n");
            writeWeights(dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void writeWeights(Path dir) throws IOException {
        LlamaConfig cfg = LlamaConfig.parse(configJson(), "synthetic config");
        Map<String, long[]> shapes = tensorShapes(cfg);
        List<String> names = new ArrayList<>(shapes.keySet());
        int n = Math.max(1, Math.min(shards, names.size()));
        if (n == 1) {
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            names.forEach(name -> w.addFloats(name, dtype, shapes.get(name), values(name, shapes.get(name))));
            w.write(dir.resolve(Checkpoint.SINGLE_FILE));
            return;
        }
        ObjectNode index = new ObjectMapper().createObjectNode();
        index.putObject("metadata").put("total_size", 0);
        ObjectNode weightMap = index.putObject("weight_map");
        long total = 0;
        for (int s = 0; s < n; s++) {
            String file = Checkpoint.shardName(s + 1, n);
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            for (int i = s * names.size() / n; i < (s + 1) * names.size() / n; i++) {
                String name = names.get(i);
                float[] v = values(name, shapes.get(name));
                w.addFloats(name, dtype, shapes.get(name), v);
                weightMap.put(name, file);
                total += (long) v.length * dtype.bytes();
            }
            w.write(dir.resolve(file));
        }
        ((ObjectNode) index.get("metadata")).put("total_size", total);
        Files.writeString(dir.resolve(Checkpoint.INDEX_FILE),
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(index) + "\n");
    }

    /** Tensor names and shapes in the order Hugging Face writes them (sorted by name). */
    private Map<String, long[]> tensorShapes(LlamaConfig c) {
        Map<String, long[]> m = new java.util.TreeMap<>();
        m.put("model.embed_tokens.weight", new long[] {vocab, hidden});
        m.put("model.norm.weight", new long[] {hidden});
        if (!tied) {
            m.put("lm_head.weight", new long[] {vocab, hidden});
        }
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new long[] {hidden});
            m.put(p + "post_attention_layernorm.weight", new long[] {hidden});
        }
        for (PrunableLayer l : Checkpoint.enumerateLayers(c)) {
            if (l.block() >= 0) {
                m.put(l.weightTensor(), new long[] {l.outFeatures(), l.inFeatures()});
            }
        }
        return new LinkedHashMap<>(m);
    }

    private float[] values(String name, long[] shape) {
        int numel = 1;
        for (long d : shape) {
            numel = Math.multiplyExact(numel, (int) d);
        }
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        float[] v = new float[numel];
        if (name.endsWith("layernorm.weight") || name.equals("model.norm.weight")) {
            for (int i = 0; i < numel; i++) {
                v[i] = (float) (1.0 + 0.1 * rnd.nextGaussian());
            }
            if (!name.equals("model.norm.weight")) {
                if (normSpread > 0) {
                    // a second stream, so the draws above stay what they are without spread
                    SplittableRandom spread = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode() + 1);
                    for (int i = 0; i < numel; i++) {
                        v[i] *= (float) StrictMath.exp(normSpread * spread.nextGaussian());
                    }
                }
                for (int f : outlierFeatures) {
                    v[f] *= outlierScale;
                }
            }
            return v;
        }
        for (int i = 0; i < numel; i++) {
            v[i] = (float) (weightStd * rnd.nextGaussian());
        }
        for (Edit e : edits) {
            if (e.tensor().equals(name)) {
                for (int i = e.from(); i < e.to(); i++) {
                    v[i] = e.value() != null ? e.value() : v[i] * e.factor();
                }
            }
        }
        if (name.equals("model.embed_tokens.weight")) {
            int cols = (int) shape[1];
            for (int r = 0; r < shape[0]; r++) {
                for (int f : outlierFeatures) {
                    v[r * cols + f] *= 4f;
                }
            }
        }
        return v;
    }
}
