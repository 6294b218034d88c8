package io.layerscope.model;

import java.nio.file.Path;

/**
 * Fetches a model that no cache holds, e.g. a download from the Hugging Face Hub. The
 * {@link ModelResolver} calls it last, after the local directory and the caches.
 *
 * <pre>{@code
 * ModelResolver resolver = new ModelResolver((repoId, revision, cacheDir) -> hubDownload(repoId, revision, cacheDir));
 * }</pre>
 */
@FunctionalInterface
public interface ModelSource {
    /**
     * Brings {@code revision} of {@code repoId} into {@code cacheDir}, laid out like the Hugging Face
     * cache ({@code models--org--name/snapshots/<commit>/}), and returns it with origin
     * {@link ResolvedModel.Origin#DOWNLOADED}; throws {@link io.layerscope.LayerscopeException} with
     * the reason when it cannot (no access, no such repo or revision, no network).
     */
    ResolvedModel fetch(String repoId, String revision, Path cacheDir);
}
