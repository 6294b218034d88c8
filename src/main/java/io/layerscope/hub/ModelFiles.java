package io.layerscope.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.Failures;
import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Which files of a model repo layerscope needs: {@code config.json}, the tokenizer and generation
 * files that exist, and the safetensors weights, either {@code model.safetensors} or
 * {@code model.safetensors.index.json} with the shards its weight_map names. Never the
 * {@code .bin}/{@code .pth} copies of the same weights, nor anything in subfolders.
 */
public final class ModelFiles {

    public static final String CONFIG = "config.json";
    public static final String SINGLE_WEIGHTS = io.layerscope.model.Checkpoint.SINGLE_FILE;
    public static final String WEIGHTS_INDEX = io.layerscope.model.Checkpoint.INDEX_FILE;
    /** Fetched when the repo has them. */
    public static final List<String> OPTIONAL = List.of("tokenizer.json", "tokenizer_config.json",
            "generation_config.json");

    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelFiles() {
    }

    /** config.json and those of {@link #OPTIONAL} that {@code repoFiles} has, in that order. */
    public static List<String> metadata(Collection<String> repoFiles) {
        List<String> files = new ArrayList<>(List.of(CONFIG));
        for (String f : OPTIONAL) {
            if (repoFiles.contains(f)) {
                files.add(f);
            }
        }
        return files;
    }

    /** {@code model.safetensors} if the repo has it, else the index if it has that, else empty. */
    public static Optional<String> weightsEntry(Collection<String> repoFiles) {
        if (repoFiles.contains(SINGLE_WEIGHTS)) {
            return Optional.of(SINGLE_WEIGHTS);
        }
        return repoFiles.contains(WEIGHTS_INDEX) ? Optional.of(WEIGHTS_INDEX) : Optional.empty();
    }

    /** The shard files named in an index's weight_map, sorted, each once. */
    public static List<String> shards(Path indexFile) {
        JsonNode map;
        try {
            map = JSON.readTree(indexFile.toFile()).path("weight_map");
        } catch (IOException e) {
            throw new LayerscopeException(indexFile + ": not valid JSON (" + Failures.describe(e)
                    + "); delete it from the cache to download it again", e);
        }
        if (!map.isObject() || map.isEmpty()) {
            throw new LayerscopeException(indexFile + ": has no weight_map naming the safetensors shards");
        }
        TreeSet<String> shards = new TreeSet<>();
        map.fields().forEachRemaining(e -> {
            String shard = e.getValue().asText("");
            // a NUL or other control character names no file anywhere (a Path of it would throw)
            if (!shard.endsWith(".safetensors") || shard.startsWith("/") || shard.contains("..")
                    || shard.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw new LayerscopeException(indexFile + ": weight_map maps " + e.getKey() + " to \""
                        + shard.replaceAll("\\p{Cntrl}", "?") + "\", which is not a safetensors file of the repo");
            }
            shards.add(shard);
        });
        return List.copyOf(shards);
    }

    /** For messages: the weight files a repo has that layerscope does not read. */
    static List<String> unreadableWeights(Collection<String> repoFiles) {
        return repoFiles.stream().filter(f -> f.endsWith(".bin") || f.endsWith(".pth") || f.endsWith(".pt")
                || f.endsWith(".gguf") || f.endsWith(".h5") || f.endsWith(".msgpack")).sorted().toList();
    }
}
