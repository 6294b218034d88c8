package io.layerscope.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.layerscope.LayerscopeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face LLaMA model directory: config.json and the safetensors weights (one file, or shards
 * through model.safetensors.index.json). Opening reads only the config and the safetensors headers,
 * and checks that every tensor the config requires is present with the right shape.
 *
 * <pre>{@code
 * Checkpoint ckpt = Checkpoint.open(Path.of("llm_weights/.../snapshots/abc"));
 * for (PrunableLayer l : ckpt.prunableLayers()) { ... }
 * float[] w = ckpt.readFloats(ckpt.layer("model.layers.0.mlp.down_proj").weightTensor());
 * }</pre>
 */
public final class Checkpoint {
    public static final String INDEX_FILE = "model.safetensors.index.json";
    public static final String SINGLE_FILE = "model.safetensors";

    /** The name of shard {@code number} (from 1) of {@code files}, as Hugging Face's save_pretrained names them. */
    public static String shardName(int number, int files) {
        return String.format("model-%05d-of-%05d.safetensors", number, files);
    }

    private final Path dir;
    private final LlamaConfig config;
    private final Map<String, SafetensorsFile> fileOf;
    private final List<SafetensorsFile> files;
    private final List<PrunableLayer> layers;

    private Checkpoint(Path dir, LlamaConfig config, Map<String, SafetensorsFile> fileOf, List<SafetensorsFile> files) {
        this.dir = dir;
        this.config = config;
        this.fileOf = fileOf;
        this.files = files;
        this.layers = Collections.unmodifiableList(enumerateLayers(config));
    }

    public static Checkpoint open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new LayerscopeException(dir + ": not a directory; --model takes a Hugging Face model directory, a repo id or \"demo\"");
        }
        LlamaConfig config = LlamaConfig.read(dir.resolve("config.json"));
        Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
        List<SafetensorsFile> files = new ArrayList<>();
        Path index = dir.resolve(INDEX_FILE);
        if (Files.exists(index)) {   // one that is no regular file is refused, not passed over
            readIndex(dir, index, fileOf, files);
        } else if (Files.isRegularFile(dir.resolve(SINGLE_FILE))) {
            SafetensorsFile f = SafetensorsFile.open(dir.resolve(SINGLE_FILE));
            files.add(f);
            f.tensors().keySet().forEach(n -> fileOf.put(n, f));
        } else {
            throw new LayerscopeException(dir + ": no weights found; expected " + SINGLE_FILE + " or " + INDEX_FILE
                    + " with its shards (.bin and .pth checkpoints are not read: convert them to safetensors)");
        }
        // before anything is sized from config.json: its sizes must be those of the tensors on disk
        validate(dir, config, fileOf);
        return new Checkpoint(dir, config, fileOf, files);
    }

    private static void readIndex(Path dir, Path index, Map<String, SafetensorsFile> fileOf, List<SafetensorsFile> files) {
        JsonNode map;
        try {
            // a 405B model's index is about 1.5 MB
            map = SmallJsonFile.read(index, 256L << 20, "a safetensors index").path("weight_map");
        } catch (java.nio.file.NoSuchFileException e) {
            throw new LayerscopeException(index + ": missing (it was there a moment ago)", e);
        }
        if (!map.isObject()) {
            throw new LayerscopeException(index + ": has no weight_map object");
        }
        Path root = dir.toAbsolutePath().normalize();
        Map<String, SafetensorsFile> shards = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String shardName = e.getValue().asText();
            Path shard;
            try {
                shard = root.resolve(shardName).normalize();
            } catch (java.nio.file.InvalidPathException bad) {
                throw new LayerscopeException(index + ": shard \"" + shardName.replaceAll("\\p{Cntrl}", "?") + "\" for tensor "
                        + e.getKey() + " is not a file name (" + bad.getReason() + ")");
            }
            if (!shard.startsWith(root) || shard.equals(root)) {
                throw new LayerscopeException(index + ": shard \"" + shardName + "\" for tensor " + e.getKey()
                        + " lies outside the model directory; refusing to read it");
            }
            SafetensorsFile f = shards.get(shardName);
            if (f == null) {
                if (!Files.exists(shard)) {
                    throw new LayerscopeException(index + ": shard " + shardName + " (for tensor " + e.getKey()
                            + ") is missing from " + dir);
                }
                if (io.layerscope.FileKinds.existsButNotRegular(shard)) {
                    throw new LayerscopeException(index + ": shard " + shardName + " (for tensor " + e.getKey()
                            + ") is " + io.layerscope.FileKinds.NOT_REGULAR);
                }
                f = SafetensorsFile.open(shard);
                shards.put(shardName, f);
                files.add(f);
            }
            if (!f.contains(e.getKey())) {
                throw new LayerscopeException(shard + ": the index places tensor " + e.getKey() + " here but the file has no such tensor");
            }
            fileOf.put(e.getKey(), f);
        }
    }

    /**
     * Every tensor the config requires must be present with the shape the config implies and a dtype
     * the forward pass loads. Only the headers are consulted, and nothing is allocated from the
     * config's sizes: a num_hidden_layers of 2^31 - 1 fails at the first block the weights lack.
     */
    private static void validate(Path dir, LlamaConfig c, Map<String, SafetensorsFile> fileOf) {
        int h = c.hiddenSize();
        String hidden = "hidden_size " + h;
        String inter = "intermediate_size " + c.intermediateSize();
        String q = "num_attention_heads " + c.numAttentionHeads() + " x head_dim " + c.headDim();
        String kv = "num_key_value_heads " + c.numKeyValueHeads() + " x head_dim " + c.headDim();
        String vocab = "vocab_size " + c.vocabSize();
        expect(dir, fileOf, "model.embed_tokens.weight", new long[] {c.vocabSize(), h}, vocab, hidden);
        expect(dir, fileOf, "model.norm.weight", new long[] {h}, hidden);
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            if (!hasBlock(fileOf, p)) {
                throw new LayerscopeException(dir + ": config.json gives num_hidden_layers " + c.numHiddenLayers()
                        + " but the weights hold " + (i == 0 ? "no decoder block" : "blocks 0.." + (i - 1) + " only")
                        + " (no tensor named " + p + "*); the config does not belong to these weights");
            }
            expect(dir, fileOf, p + "input_layernorm.weight", new long[] {h}, hidden);
            expect(dir, fileOf, p + "post_attention_layernorm.weight", new long[] {h}, hidden);
            expect(dir, fileOf, p + "self_attn.q_proj.weight", new long[] {c.qDim(), h}, q, hidden);
            expect(dir, fileOf, p + "self_attn.k_proj.weight", new long[] {c.kvDim(), h}, kv, hidden);
            expect(dir, fileOf, p + "self_attn.v_proj.weight", new long[] {c.kvDim(), h}, kv, hidden);
            expect(dir, fileOf, p + "self_attn.o_proj.weight", new long[] {h, c.qDim()}, hidden, q);
            expect(dir, fileOf, p + "mlp.gate_proj.weight", new long[] {c.intermediateSize(), h}, inter, hidden);
            expect(dir, fileOf, p + "mlp.up_proj.weight", new long[] {c.intermediateSize(), h}, inter, hidden);
            expect(dir, fileOf, p + "mlp.down_proj.weight", new long[] {h, c.intermediateSize()}, hidden, inter);
        }
        if (!c.tieWordEmbeddings()) {
            expect(dir, fileOf, "lm_head.weight", new long[] {c.vocabSize(), h}, vocab, hidden);
        }
    }

    private static boolean hasBlock(Map<String, SafetensorsFile> fileOf, String prefix) {
        if (fileOf.containsKey(prefix + "input_layernorm.weight")) {
            return true;
        }
        for (String name : fileOf.keySet()) {
            if (name.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static void expect(Path dir, Map<String, SafetensorsFile> fileOf, String tensor, long[] shape, String... from) {
        SafetensorsFile f = fileOf.get(tensor);
        if (f == null) {
            throw new LayerscopeException(dir + ": tensor " + tensor + " is required by config.json but absent from the weights");
        }
        TensorInfo t = f.tensor(tensor);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new LayerscopeException(f.path() + ": tensor " + tensor + " has shape " + t.shapeString()
                    + " but config.json implies " + Arrays.toString(shape) + " (" + String.join(", ", from) + ")");
        }
        if (!t.dtype().isFloating()) {
            throw new LayerscopeException(f.path() + ": tensor " + tensor + " has dtype " + t.dtype() + ", not a floating type");
        }
        requireLoadable(f.path(), t);
    }

    /** Refuses a tensor of a floating type layerscope does not widen (F64, F8 ...), naming its file. */
    public static void requireLoadable(Path file, TensorInfo t) {
        if (!t.dtype().isLoadable()) {
            throw new LayerscopeException(file + ": tensor " + t.name() + " has dtype " + t.dtype()
                    + "; layerscope loads BF16, F16 and F32 weights (convert the checkpoint with torch first)");
        }
    }

    /** The prunable Linear layers in named_modules() order: 7 per decoder layer, then lm_head. */
    static List<PrunableLayer> enumerateLayers(LlamaConfig c) {
        List<PrunableLayer> out = new ArrayList<>();
        int h = c.hiddenSize();
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            for (LayerKind k : LayerKind.values()) {
                if (k == LayerKind.LM_HEAD) {
                    continue;
                }
                String name = "model.layers." + i + "." + k.parent() + "." + k.shortName();
                int[] shape = switch (k) {
                    case Q_PROJ -> new int[] {c.qDim(), h};
                    case K_PROJ, V_PROJ -> new int[] {c.kvDim(), h};
                    case O_PROJ -> new int[] {h, c.qDim()};
                    case GATE_PROJ, UP_PROJ -> new int[] {c.intermediateSize(), h};
                    case DOWN_PROJ -> new int[] {h, c.intermediateSize()};
                    default -> throw new IllegalStateException();
                };
                out.add(new PrunableLayer(name, i, k, shape[0], shape[1], name + ".weight"));
            }
        }
        String head = c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
        out.add(new PrunableLayer("lm_head", -1, LayerKind.LM_HEAD, c.vocabSize(), h, head));
        return out;
    }

    public Path dir() {
        return dir;
    }

    public LlamaConfig config() {
        return config;
    }

    /** All prunable layers, lm_head last. */
    public List<PrunableLayer> prunableLayers() {
        return layers;
    }

    /** The layer with this module path; an unknown name gets the closest valid names in the message. */
    public PrunableLayer layer(String name) {
        for (PrunableLayer l : layers) {
            if (l.name().equals(name)) {
                return l;
            }
        }
        throw new LayerscopeException("no prunable layer named \"" + name + "\" in " + dir + ". Closest: "
                + String.join(", ", LayerNames.closest(name, layers.stream().map(PrunableLayer::name).toList(), 3))
                + " (run list-layers to see them all)");
    }

    public SafetensorsFile fileOf(String tensor) {
        SafetensorsFile f = fileOf.get(tensor);
        if (f == null) {
            throw new LayerscopeException(dir + ": no tensor " + tensor);
        }
        return f;
    }

    /**
     * Whether the checkpoint's tensor {@code name} is the one stored in {@code file}: with an index, a
     * copy in another shard, or a tensor the index does not list, is not part of the checkpoint.
     */
    public boolean holds(SafetensorsFile file, String name) {
        return fileOf.get(name) == file;
    }

    public TensorInfo tensor(String name) {
        return fileOf(name).tensor(name);
    }

    public float[] readFloats(String tensor) {
        return fileOf(tensor).readFloats(tensor);
    }

    /** {@link SafetensorsFile#readFloats(String, long, int, float[])}: entries [first, first + count) into {@code into}. */
    public void readFloats(String tensor, long first, int count, float[] into) {
        fileOf(tensor).readFloats(tensor, first, count, into);
    }

    public List<SafetensorsFile> files() {
        return files;
    }

    /** The weight dtype as stored (of the embedding matrix; LLaMA checkpoints use one dtype throughout). */
    public DType storedDtype() {
        return tensor("model.embed_tokens.weight").dtype();
    }
}
