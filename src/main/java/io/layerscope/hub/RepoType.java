package io.layerscope.hub;

/**
 * The kinds of Hugging Face Hub repository layerscope reads. Each kind has its own cache folder
 * prefix ({@code models--}, {@code datasets--}), API path and URL prefix, exactly as
 * huggingface_hub names them.
 */
public enum RepoType {
    MODEL("model", "models", ""),
    DATASET("dataset", "datasets", "datasets/");

    private final String label;
    private final String plural;
    private final String urlPrefix;

    RepoType(String label, String plural, String urlPrefix) {
        this.label = label;
        this.plural = plural;
        this.urlPrefix = urlPrefix;
    }

    /** "model" or "dataset", for messages. */
    public String label() {
        return label;
    }

    /** "models" or "datasets": the cache folder prefix and the API path segment. */
    public String plural() {
        return plural;
    }

    /** "" for models, "datasets/" for datasets: what precedes the repo id in file URLs and web pages. */
    public String urlPrefix() {
        return urlPrefix;
    }
}
