package io.layerscope.hub;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A repo revision present in the cache: what run.json records about where the weights or the
 * calibration data came from.
 *
 * @param repoId e.g. {@code meta-llama/Llama-3.2-1B} or {@code allenai/c4}
 * @param revision what was asked for, e.g. {@code main}
 * @param commitSha the commit the revision pointed to
 * @param dir the snapshot folder, {@code <cache>/models--org--name/snapshots/<commitSha>}
 * @param sha256ByFile sha256 (hex) of each resolved file, by repo path, sorted
 */
public record ResolvedSnapshot(String repoId, String revision, String commitSha, Path dir,
        Map<String, String> sha256ByFile) {

    public ResolvedSnapshot {
        sha256ByFile = Map.copyOf(sha256ByFile);
    }

    /** The local path of a repo file, e.g. {@code file("config.json")}. */
    public Path file(String repoPath) {
        return dir.resolve(repoPath);
    }

    /** The resolved repo paths, sorted. */
    public List<String> files() {
        return sha256ByFile.keySet().stream().sorted().toList();
    }
}
