package io.layerscope.results;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Who wrote a run's tables and from what, kept in the key-value metadata of every Parquet footer
 * (under {@code layerscope.*} keys), so a file copied away from its run.json still says where it
 * came from. The run id is also every table's {@code run_id} column and run.json's {@code runId}.
 *
 * @param runId       a random UUID made once per run
 * @param toolVersion layerscope's version
 * @param modelSpec   what the user gave as --model (a directory, a repo id or "demo")
 * @param repoId      the Hugging Face repo id, or null for a local directory
 * @param commit      the repo commit the weights came from, or null
 * @param mode        how the activations were gathered ("dense": one forward of the unpruned model)
 */
public record Provenance(String runId, String toolVersion, String modelSpec, String repoId, String commit, String mode) {
    public static final String TOOL = "layerscope";

    /** The footer's key-value metadata; keys whose value is unknown (null) are left out. */
    public Map<String, String> footer() {
        Map<String, String> kv = new LinkedHashMap<>();
        kv.put("layerscope.tool", TOOL);
        kv.put("layerscope.version", toolVersion);
        kv.put("layerscope.run_id", runId);
        kv.put("layerscope.model", modelSpec);
        kv.put("layerscope.model.repo_id", repoId);
        kv.put("layerscope.model.commit", commit);
        kv.put("layerscope.mode", mode);
        kv.values().removeIf(v -> v == null);
        return kv;
    }
}
