package io.layerscope.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Hugging Face cache layout, as {@code huggingface_hub} writes it and as {@code from_pretrained(...,
 * cache_dir="llm_weights")} left it for the Python tools:
 * {@code <cache>/models--<org>--<name>/refs/<revision>} holds a commit hash, and the files of that
 * commit are in {@code <cache>/models--<org>--<name>/snapshots/<commit>/}.
 */
public final class HfCache {
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?");
    private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9._/-]+");

    private HfCache() {
    }

    /** {@code models--meta-llama--Llama-3.2-1B} for {@code meta-llama/Llama-3.2-1B}. */
    public static String repoFolder(String repoId) {
        return "models--" + repoId.replace("/", "--");
    }

    /** True for a repo id as the Hub allows it: {@code name} or {@code org/name}, no "--" or "..". */
    public static boolean isRepoId(String s) {
        return REPO_ID.matcher(s).matches() && !s.contains("--") && !s.contains("..") && !s.endsWith(".git");
    }

    /** True for a full commit hash (40 lowercase hex digits). */
    public static boolean isCommit(String revision) {
        return COMMIT.matcher(revision).matches();
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

    /** The snapshot of {@code revision} of {@code repoId} in the cache {@code root}, if it is there (with its config.json). */
    public static Optional<ResolvedModel> find(Path root, String repoId, String revision) {
        Path repo = root.resolve(repoFolder(repoId));
        String commit = revision;
        if (!isCommit(revision)) {
            Path ref = repo.resolve("refs").resolve(revision);
            if (!Files.isRegularFile(ref)) {
                return Optional.empty();
            }
            try {
                commit = Files.readString(ref).trim();
            } catch (IOException e) {
                return Optional.empty();
            }
            if (!isCommit(commit)) {
                return Optional.empty();
            }
        }
        Path snapshot = repo.resolve("snapshots").resolve(commit);
        if (!Files.isRegularFile(snapshot.resolve("config.json"))) {
            return Optional.empty();
        }
        return Optional.of(new ResolvedModel(snapshot, ResolvedModel.Origin.CACHE, repoId, revision, commit));
    }

    /**
     * The cache the Hugging Face libraries use by default: {@code $HF_HUB_CACHE}, else
     * {@code $HF_HOME/hub}, else {@code ~/.cache/huggingface/hub}.
     */
    public static Path defaultHubCache(Map<String, String> env, Path home) {
        String hub = env.get("HF_HUB_CACHE");
        if (hub != null && !hub.isBlank()) {
            return Path.of(hub);
        }
        String hfHome = env.get("HF_HOME");
        if (hfHome != null && !hfHome.isBlank()) {
            return Path.of(hfHome).resolve("hub");
        }
        return home.resolve(".cache").resolve("huggingface").resolve("hub");
    }

    /** For a directory {@code .../models--org--name/snapshots/<commit>}, its repo id and commit. */
    static Optional<ResolvedModel> describeSnapshot(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        Path repo = parent == null ? null : parent.getParent();
        if (repo == null || abs.getFileName() == null || !parent.getFileName().toString().equals("snapshots")
                || !isCommit(abs.getFileName().toString()) || !repo.getFileName().toString().startsWith("models--")) {
            return Optional.empty();
        }
        String repoId = repo.getFileName().toString().substring("models--".length()).replaceFirst("--", "/");
        String commit = abs.getFileName().toString();
        return Optional.of(new ResolvedModel(dir, ResolvedModel.Origin.LOCAL, repoId, commit, commit));
    }
}
