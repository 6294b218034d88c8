package io.layerscope.model;

import java.nio.file.Path;

/**
 * What {@code --model} resolved to: the local Hugging Face-format directory to read, and where it
 * came from. {@code repoId}, {@code revision} and {@code commit} are null when unknown (a plain
 * local directory has none of them).
 */
public record ResolvedModel(Path dir, Origin origin, String repoId, String revision, String commit) {

    /** How the directory was found. */
    public enum Origin {
        /** A directory the user named. */
        LOCAL,
        /** A snapshot in a Hugging Face-layout cache. */
        CACHE,
        /** Fetched by a {@link ModelSource} into the cache just now. */
        DOWNLOADED,
        /** The embedded demo model ({@link DemoModel}). */
        DEMO
    }

    /** One line for logs and reports, e.g. {@code meta-llama/Llama-3.2-1B@main (commit 4e20de36...) from the cache at ...}. */
    public String describe() {
        String what = repoId == null ? dir.toString() : repoId + (revision == null ? "" : "@" + revision)
                + (commit == null || commit.equals(revision) ? "" : " (commit " + commit + ")");
        return switch (origin) {
            case LOCAL -> what + (repoId == null ? " (local directory)" : " in local directory " + dir);
            case CACHE -> what + " from the cache at " + dir;
            case DOWNLOADED -> what + " downloaded to " + dir;
            case DEMO -> "the embedded demo model " + revision + " at " + dir;
        };
    }
}
