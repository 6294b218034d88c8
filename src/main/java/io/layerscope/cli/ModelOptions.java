package io.layerscope.cli;

import io.layerscope.model.ModelResolver;
import io.layerscope.model.ResolvedModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options every command that reads a model shares: {@code --model}, {@code --cache-dir}
 * (also spelled {@code --cache_dir}, as the Python tools did) and {@code --revision}. Used as a
 * picocli mixin: {@code @Mixin ModelOptions model;}.
 */
public final class ModelOptions {
    @Option(names = "--model", paramLabel = "MODEL", defaultValue = ModelResolver.DEFAULT_MODEL,
            description = "A Hugging Face model directory, a repo id found in the cache, or \"demo\" (the embedded"
                    + " demo model). Default: ${DEFAULT-VALUE}.")
    private String model;

    @Option(names = {"--cache-dir", "--cache_dir"}, paramLabel = "DIR", defaultValue = "llm_weights",
            description = "Hugging Face-layout cache searched for repo ids (then $HF_HUB_CACHE, $HF_HOME/hub or"
                    + " ~/.cache/huggingface/hub); the demo model is generated here. Default: ${DEFAULT-VALUE}.")
    private Path cacheDir;

    @Option(names = "--revision", paramLabel = "REV", defaultValue = ModelResolver.DEFAULT_REVISION,
            description = "Branch, tag or commit of a repo id. Default: ${DEFAULT-VALUE}.")
    private String revision;

    public String model() {
        return model;
    }

    public Path cacheDir() {
        return cacheDir;
    }

    public String revision() {
        return revision;
    }

    /** Resolves {@code --model} to a local directory (see {@link ModelResolver}). */
    public ResolvedModel resolve() {
        return resolver().resolve(model, cacheDir, revision);
    }

    /** The options other than --model that a command printed for the user must repeat. */
    public List<String> nonDefaultArgs() {
        List<String> out = new ArrayList<>();
        if (!cacheDir.equals(ModelResolver.DEFAULT_CACHE_DIR)) {
            out.add("--cache-dir");
            out.add(cacheDir.toString());
        }
        if (!revision.equals(ModelResolver.DEFAULT_REVISION)) {
            out.add("--revision");
            out.add(revision);
        }
        return out;
    }

    /** Local directories, caches and the demo; a Hub download source plugs in here. */
    static ModelResolver resolver() {
        return new ModelResolver();
    }
}
