package io.layerscope.model;

import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The one place that knows where Hugging Face caches are and how they are laid out, for model
 * resolution here and for the Hub client ({@code io.layerscope.hub}), which adds the downloads.
 *
 * <p><b>Layout</b>, as {@code huggingface_hub} writes it and as {@code from_pretrained(...,
 * cache_dir="llm_weights")} left it for the Python tools: {@code <cache>/models--<org>--<name>/refs/<revision>}
 * holds a commit hash, and the files of that commit are in
 * {@code <cache>/models--<org>--<name>/snapshots/<commit>/} (datasets likewise under {@code datasets--}).
 *
 * <p><b>Where</b>, read from the environment variables huggingface_hub reads. A leading {@code ~} in
 * any of them (or in {@code --cache-dir}) is the home directory ({@code $HOME}, else the JVM's
 * {@code user.home}); every path is made absolute against the working directory and normalized.
 * <ul>
 *   <li>{@link #hfHome}: {@code $HF_HOME}, else {@code $XDG_CACHE_HOME/huggingface}, else
 *       {@code ~/.cache/huggingface};</li>
 *   <li>{@link #defaultHubCache}, the cache the Python libraries use: {@code $HF_HUB_CACHE}, else
 *       {@code $HUGGINGFACE_HUB_CACHE} (its older name), else {@link #hfHome}{@code /hub};</li>
 *   <li>{@link #cacheDir}, the cache layerscope reads first and downloads into: {@code --cache-dir},
 *       else the default Hub cache if one of {@code HF_HUB_CACHE}, {@code HUGGINGFACE_HUB_CACHE},
 *       {@code HF_HOME} is set, else {@code llm_weights} (the Python pruning tools' {@code cache_dir});</li>
 *   <li>{@link #searched}: a repo id is looked for in the cache dir, then in the default Hub cache.</li>
 * </ul>
 */
public final class HfCache {
    /** The cache dir when neither {@code --cache-dir} nor a Hugging Face variable names one. */
    public static final Path DEFAULT_CACHE_DIR = Path.of("llm_weights");
    /** The folder prefix of model repos ({@code models--org--name}). */
    public static final String MODELS = "models";

    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?");
    private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9._/-]+");

    private HfCache() {
    }

    // --- where the caches are -------------------------------------------------------------------

    /**
     * The cache dir in effect and the rule that chose it: "--cache-dir", "HF_HUB_CACHE",
     * "HUGGINGFACE_HUB_CACHE", "HF_HOME" or "default".
     */
    public record CacheDir(Path path, String source) {
    }

    /** The home directory a leading {@code ~} stands for: {@code $HOME}, else {@code user.home}. */
    public static Path home(Map<String, String> env) {
        return value(env, "HOME").map(Path::of).orElseGet(() -> Path.of(System.getProperty("user.home")))
                .toAbsolutePath().normalize();
    }

    /** {@code path} with a leading {@code ~} or {@code ~/} replaced by {@code home}, absolute and normalized. */
    public static Path expand(String path, Path home) {
        Path p;
        if (path.equals("~")) {
            p = home;
        } else if (path.startsWith("~/")) {
            p = home.resolve(path.substring(2));
        } else {
            p = Path.of(path);
        }
        return p.toAbsolutePath().normalize();
    }

    /** {@code $HF_HOME}, else {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface}. */
    public static Path hfHome(Map<String, String> env, Path home) {
        return value(env, "HF_HOME").map(p -> expand(p, home))
                .orElseGet(() -> userCache(env, home).resolve("huggingface").normalize());
    }

    /**
     * The user's cache directory, {@code $XDG_CACHE_HOME}, else {@code ~/.cache}; layerscope's own
     * remembered results live in its {@code layerscope} directory.
     */
    public static Path userCache(Map<String, String> env, Path home) {
        return value(env, "XDG_CACHE_HOME").map(p -> expand(p, home)).orElse(home.resolve(".cache"));
    }

    /** layerscope's own directory {@code name} in the {@link #userCache}: remembered hashes, windows. */
    public static Path layerscopeCache(Map<String, String> env, String name) {
        return userCache(env, home(env)).resolve("layerscope").resolve(name);
    }

    /** The cache the Hugging Face libraries use: {@code $HF_HUB_CACHE}, else {@code $HUGGINGFACE_HUB_CACHE}, else {@link #hfHome}/hub. */
    public static Path defaultHubCache(Map<String, String> env, Path home) {
        return value(env, "HF_HUB_CACHE").or(() -> value(env, "HUGGINGFACE_HUB_CACHE")).map(p -> expand(p, home))
                .orElseGet(() -> hfHome(env, home).resolve("hub"));
    }

    /**
     * The cache layerscope reads first and downloads into.
     *
     * @param option the {@code --cache-dir} the user gave, or null when the option was not given
     */
    public static CacheDir cacheDir(Map<String, String> env, Path home, Path option) {
        if (option != null) {
            return new CacheDir(expand(option.toString(), home), "--cache-dir");
        }
        for (String name : new String[] {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME"}) {
            if (value(env, name).isPresent()) {
                return new CacheDir(defaultHubCache(env, home), name);
            }
        }
        return new CacheDir(expand(DEFAULT_CACHE_DIR.toString(), home), "default");
    }

    /** The caches a repo id is looked for in, in order: {@code cacheDir} as given, then the default Hub cache if it is another. */
    public static List<Path> searched(Path cacheDir, Map<String, String> env, Path home) {
        List<Path> out = new ArrayList<>();
        out.add(cacheDir);
        Path hub = defaultHubCache(env, home);
        if (!hub.equals(cacheDir.toAbsolutePath().normalize())) {
            out.add(hub);
        }
        return out;
    }

    // --- how a cache is laid out ----------------------------------------------------------------

    /** {@code models--meta-llama--Llama-3.2-1B} for {@code meta-llama/Llama-3.2-1B}. */
    public static String repoFolder(String repoId) {
        return repoFolder(MODELS, repoId);
    }

    /** {@code <kind>--org--name}, {@code kind} being "models" or "datasets". */
    public static String repoFolder(String kind, String repoId) {
        return kind + "--" + repoId.replace("/", "--");
    }

    /** True for a repo id as the Hub allows it: {@code name} or {@code org/name}, no "--" or "..". */
    public static boolean isRepoId(String s) {
        return REPO_ID.matcher(s).matches() && !s.contains("--") && !s.contains("..") && !s.endsWith(".git");
    }

    /** True for a full commit hash (40 lowercase hex digits), which names a snapshot without a ref. */
    public static boolean isCommit(String revision) {
        return revision != null && COMMIT.matcher(revision).matches();
    }

    /** A branch, tag, {@code pr/N} or commit; never a path that climbs out of refs/. */
    public static boolean isRevision(String revision) {
        if (!REVISION.matcher(revision).matches() || revision.startsWith("/")) {
            return false;
        }
        for (String part : revision.split("/")) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                return false;
            }
        }
        return true;
    }

    /** The ref file in the repo folder {@code repoDir} that records which commit {@code revision} pointed to. */
    public static Path refFile(Path repoDir, String revision) {
        return inside(repoDir.resolve("refs"), revision, "revision");
    }

    /**
     * The commit that {@code revision} means in the repo folder {@code repoDir}: the revision itself
     * if it is a commit, otherwise the content of {@code refs/<revision>} if the cache has it.
     */
    public static Optional<String> commitOf(Path repoDir, String revision) {
        if (isCommit(revision)) {
            return Optional.of(revision);
        }
        try {
            String commit = Files.readString(refFile(repoDir, revision), StandardCharsets.UTF_8).strip();
            return isCommit(commit) ? Optional.of(commit) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The snapshot folder of {@code revision} in the repo folder {@code repoDir}, if the cache has one. */
    public static Optional<Path> snapshot(Path repoDir, String revision) {
        return commitOf(repoDir, revision).map(c -> repoDir.resolve("snapshots").resolve(c)).filter(Files::isDirectory);
    }

    /** The snapshot of {@code revision} of {@code repoId} in the cache {@code root}, if it is there (with its config.json). */
    public static Optional<ResolvedModel> find(Path root, String repoId, String revision) {
        Path repo = root.resolve(repoFolder(repoId));
        return snapshot(repo, revision).filter(dir -> Files.isRegularFile(dir.resolve("config.json")))
                .map(dir -> new ResolvedModel(dir, ResolvedModel.Origin.CACHE, repoId, revision,
                        dir.getFileName().toString()));
    }

    /** {@code dir/relative}, refusing absolute names and ".." that would leave {@code dir}. */
    public static Path inside(Path dir, String relative, String what) {
        Path base = dir.normalize();
        Path resolved = base.resolve(relative).normalize();
        if (relative.isEmpty() || relative.startsWith("/") || relative.contains("\\") || !resolved.startsWith(base)
                || resolved.equals(base)) {
            throw new LayerscopeException("\"" + relative + "\" is not a usable " + what
                    + " in the Hugging Face cache: it must be a relative path inside the repository");
        }
        return resolved;
    }

    /** For a directory {@code .../models--org--name/snapshots/<commit>}, its repo id and commit. */
    static Optional<ResolvedModel> describeSnapshot(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        Path repo = parent == null ? null : parent.getParent();
        if (repo == null || abs.getFileName() == null || !parent.getFileName().toString().equals("snapshots")
                || !isCommit(abs.getFileName().toString()) || !repo.getFileName().toString().startsWith(MODELS + "--")) {
            return Optional.empty();
        }
        String repoId = repo.getFileName().toString().substring((MODELS + "--").length()).replaceFirst("--", "/");
        String commit = abs.getFileName().toString();
        return Optional.of(new ResolvedModel(dir, ResolvedModel.Origin.LOCAL, repoId, commit, commit));
    }

    /** The variable's value, unless it is unset or blank. */
    private static Optional<String> value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v);
    }
}
