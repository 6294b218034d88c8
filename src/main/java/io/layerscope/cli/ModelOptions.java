package io.layerscope.cli;

import io.layerscope.hub.ConsoleProgress;
import io.layerscope.hub.HubClient;
import io.layerscope.hub.HubSettings;
import io.layerscope.hub.ResolvedSnapshot;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.HfCache;
import io.layerscope.model.ModelResolver;
import io.layerscope.model.ModelSource;
import io.layerscope.model.ResolvedModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The options every command that reads a model shares: {@code --model}, {@code --cache-dir}
 * (also spelled {@code --cache_dir}, as the Python tools did) and {@code --revision}. Used as a
 * picocli mixin: {@code @Mixin ModelOptions model;}.
 */
public final class ModelOptions {
    private final Map<String, String> env;

    @Option(names = "--model", paramLabel = "MODEL", defaultValue = ModelResolver.DEFAULT_MODEL,
            converter = LocalPathConverter.PathOrName.class,
            description = "A Hugging Face model directory, a repo id (from the cache, else downloaded from the Hub), or"
                    + " \"demo\" (the embedded demo model). Default: ${DEFAULT-VALUE}.")
    private String model;

    @Option(names = {"--cache-dir", "--cache_dir"}, paramLabel = "DIR",
            description = "Hugging Face-layout cache for models and C4 (a cache the Python tools filled is used as it"
                    + " is; downloads go here); the demo model is generated here. Default: $HF_HUB_CACHE, else"
                    + " $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else llm_weights (as the Python tools used).")
    private Path cacheDirOption;

    @Option(names = "--revision", paramLabel = "REV", defaultValue = ModelResolver.DEFAULT_REVISION,
            description = "Branch, tag or commit of a repo id. Default: ${DEFAULT-VALUE}.")
    private String revision;

    /** The command these options belong to, to tell --revision given from its default (null when made by hand). */
    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    CommandSpec command;

    /** With the process environment (picocli's default factory uses this). */
    public ModelOptions() {
        this(System.getenv());
    }

    /** With the given environment (HF_TOKEN, HF_ENDPOINT, HF_HUB_OFFLINE, HF_HUB_CACHE, HF_HOME). */
    public ModelOptions(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    /** The environment the Hugging Face settings are read from. */
    public Map<String, String> env() {
        return env;
    }

    public String model() {
        return model;
    }

    /** The cache in effect ({@link HfCache#cacheDir}): --cache-dir, else HF_HUB_CACHE, else HF_HOME/hub, else llm_weights. */
    public Path cacheDir() {
        return HubSettings.fromEnvironment(env, cacheDirOption).cacheDir();
    }

    /** --cache-dir as given, or null. */
    public Path cacheDirOption() {
        return cacheDirOption;
    }

    public String revision() {
        return revision;
    }

    /** Resolves {@code --model} to a local directory (see {@link ModelResolver}). */
    public ResolvedModel resolve() {
        return resolver().resolve(model, cacheDir(), revision, Main.given(command, "--revision"));
    }

    /** A resolved model with its checkpoint opened (config.json and safetensors headers only). */
    record OpenedModel(ResolvedModel resolved, Checkpoint checkpoint) {
    }

    /** Resolves {@code --model}, says on stderr which model it is, and opens its checkpoint. */
    OpenedModel open(CommandSpec spec) {
        ResolvedModel m = resolve();
        Main.log(spec, "model: " + m.describe());
        return new OpenedModel(m, Checkpoint.open(m.dir()));
    }

    /**
     * The options besides --model that a command printed for the user must repeat to find the same
     * model: a non-default --cache-dir (unless the model is a local directory) and a non-default
     * --revision (for a repo id).
     */
    public List<String> repeatedArgs(ResolvedModel resolved) {
        List<String> out = new ArrayList<>();
        if (cacheDirOption != null && !cacheDirOption.equals(ModelResolver.DEFAULT_CACHE_DIR)
                && resolved.origin() != ResolvedModel.Origin.LOCAL) {
            out.add("--cache-dir");
            out.add(cacheDirOption.toString());
        }
        boolean repo = resolved.origin() == ResolvedModel.Origin.CACHE || resolved.origin() == ResolvedModel.Origin.DOWNLOADED;
        if (!revision.equals(ModelResolver.DEFAULT_REVISION) && repo) {
            out.add("--revision");
            out.add(revision);
        }
        return out;
    }

    /** Local directories, caches and the demo; a repo id in no cache is downloaded from the Hub. */
    private ModelResolver resolver() {
        ModelSource hubDownload = (repoId, revision, cache) -> {
            HubClient hub = new HubClient(HubSettings.fromEnvironment(env, cacheDirOption), ConsoleProgress.toStandardError());
            ResolvedSnapshot s = hub.model(repoId, revision);
            return new ResolvedModel(s.dir(), ResolvedModel.Origin.DOWNLOADED, repoId, revision, s.commitSha());
        };
        return new ModelResolver(hubDownload, env, HfCache.home(env));
    }
}
