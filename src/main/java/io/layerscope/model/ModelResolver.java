package io.layerscope.model;

import io.layerscope.LayerscopeException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Turns {@code --model} into a local model directory. In order:
 * <ol>
 *   <li>{@code demo}: the embedded demo model, generated into the cache on first use;</li>
 *   <li>an existing directory: used as it is (if it is a snapshot inside a Hugging Face cache, its
 *       repo id and commit are recorded);</li>
 *   <li>a repo id ({@code org/name}): the snapshot of {@code revision} in {@code --cache-dir}
 *       (default {@code llm_weights}, where the Python tools' {@code cache_dir} put it), then in the
 *       Hugging Face default cache ({@code $HF_HUB_CACHE}, {@code $HUGGINGFACE_HUB_CACHE},
 *       {@code $HF_HOME/hub}, {@code $XDG_CACHE_HOME/huggingface/hub} or
 *       {@code ~/.cache/huggingface/hub}): see {@link HfCache};</li>
 *   <li>the {@link ModelSource} given, if any (a Hub download into {@code --cache-dir}).</li>
 * </ol>
 * Otherwise it fails with a message that says where it looked.
 *
 * <pre>{@code
 * ResolvedModel m = new ModelResolver().resolve("meta-llama/Llama-3.2-1B", Path.of("llm_weights"), "main");
 * Checkpoint ckpt = Checkpoint.open(m.dir());
 * }</pre>
 */
public final class ModelResolver {
    public static final String DEMO = "demo";
    public static final String DEFAULT_MODEL = "meta-llama/Llama-3.2-1B";
    public static final Path DEFAULT_CACHE_DIR = HfCache.DEFAULT_CACHE_DIR;
    public static final String DEFAULT_REVISION = "main";

    private final ModelSource source;
    private final Map<String, String> env;
    private final Path home;
    private final PrintStream err;

    /** Local directories, caches and the demo only: nothing is downloaded. */
    public ModelResolver() {
        this(null);
    }

    /** As {@link #ModelResolver()}, then {@code source} (may be null) for models no cache holds. */
    public ModelResolver(ModelSource source) {
        this(source, System.getenv(), HfCache.home(System.getenv()));
    }

    /** With the environment and the home directory {@code ~} stands for ({@link HfCache#home}) given explicitly. */
    public ModelResolver(ModelSource source, Map<String, String> env, Path home) {
        this(source, env, home, System.err);
    }

    /** As above; a model found outside the chosen cache is reported on {@code err}. */
    public ModelResolver(ModelSource source, Map<String, String> env, Path home, PrintStream err) {
        this.source = source;
        this.env = Map.copyOf(env);
        this.home = home;
        this.err = err;
    }

    public ResolvedModel resolve(String model, Path cacheDir, String revision) {
        return resolve(model, cacheDir, revision, false);
    }

    /**
     * As {@link #resolve(String, Path, String)}; {@code revisionGiven} when the user named the revision,
     * which the demo model and a local directory would ignore, so it is refused for them.
     */
    public ResolvedModel resolve(String model, Path cacheDir, String revision, boolean revisionGiven) {
        if (model == null || model.isBlank()) {
            throw new LayerscopeException("--model is empty; pass a model directory, a Hugging Face repo id such as "
                    + DEFAULT_MODEL + ", or demo");
        }
        Optional<Path> local = asPath(model, home);
        boolean isLocal = !model.equals(DEMO) && local.isPresent() && Files.isDirectory(local.get());
        if (revisionGiven && (model.equals(DEMO) || isLocal)) {
            throw new LayerscopeException("--revision " + revision + " picks a version of a Hugging Face repo id, but --model "
                    + model + (isLocal ? " is a local directory, whose files are used as they are" : " is generated here")
                    + "; drop --revision");
        }
        if (model.equals(DEMO)) {
            return new ResolvedModel(DemoModel.ensure(cacheDir), ResolvedModel.Origin.DEMO, DEMO, DemoModel.VERSION, null);
        }
        if (isLocal) {
            Path dir = local.get();
            return HfCache.describeSnapshot(dir).orElse(new ResolvedModel(dir, ResolvedModel.Origin.LOCAL, null, null, null));
        }
        if (local.isPresent() && Files.exists(local.get())) {
            throw new LayerscopeException("--model " + model + ": is a file; pass the directory that holds config.json"
                    + " and the safetensors weights");
        }
        if (!HfCache.isRepoId(model)) {
            throw new LayerscopeException("--model " + model + ": no such directory, and not a Hugging Face repo id"
                    + " (org/name); pass a model directory, a repo id such as " + DEFAULT_MODEL + ", or demo");
        }
        if (!HfCache.isRevision(revision)) {
            throw new LayerscopeException("--revision " + revision + ": not a branch, tag or commit name");
        }
        List<Path> caches = cachesSearched(cacheDir);
        for (Path cache : caches) {
            Optional<ResolvedModel> found = HfCache.find(cache, model, revision);
            if (found.isPresent()) {
                if (!cache.equals(caches.get(0))) {
                    // the user chose another cache: say why nothing is downloaded into it
                    err.println("layerscope: " + model + "@" + revision + " is not in " + cacheDir + "; using the copy in the"
                            + " Hugging Face cache " + cache + " (" + found.get().dir() + ")");
                }
                return found.get();
            }
        }
        if (source != null) {
            try {
                return source.fetch(model, revision, cacheDir);
            } catch (LayerscopeException e) {
                // the source knows only cacheDir, so its message names that cache alone: add the others searched
                List<Path> others = caches.subList(1, caches.size());
                throw others.isEmpty() ? e
                        : new LayerscopeException(sentence(e.getMessage()) + " It is not in " + repoFolders(others, model) + " either.", e);
            }
        }
        throw new LayerscopeException("--model " + model + ": not a local directory, and revision \"" + revision
                + "\" of " + model + " is not in the Hugging Face caches searched (" + repoFolders(caches, model)
                + "). Download it first"
                + " (for example: hf download " + model + " --revision " + revision + " --cache-dir "
                + cacheDir + "), point --cache-dir at the cache that holds it, pass a local model directory, or try"
                + " --model demo.");
    }

    /** {@code message} ending in a full stop, so another sentence can follow it. */
    private static String sentence(String message) {
        return message.endsWith(".") ? message : message + ".";
    }

    /** The model's folder in each cache, as the messages list them. */
    private static String repoFolders(List<Path> caches, String model) {
        return caches.stream().map(c -> c.resolve(HfCache.repoFolder(model)).toString()).collect(Collectors.joining(", "));
    }

    /** The caches searched for a repo id, in order: {@code cacheDir}, then the Hugging Face default cache. */
    public List<Path> cachesSearched(Path cacheDir) {
        return HfCache.searched(cacheDir, env, home);
    }

    /** The model as a local path: a leading ~ is the home directory (the shell leaves it in --model=~/m). */
    private static Optional<Path> asPath(String model, Path home) {
        try {
            return Optional.of(model.equals("~") || model.startsWith("~/") ? HfCache.expand(model, home) : Path.of(model));
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }
}
