package io.layerscope.spark;

import io.layerscope.llama.ComputeDtype;
import io.layerscope.plot.PictureSize;
import java.nio.file.Path;
import java.util.Map;

/**
 * The options of one sweep or single-layer job, built once from the command line and passed down.
 *
 * @param model      what the user typed for --model (directory, repo id or "demo")
 * @param modelDir   the resolved local model directory
 * @param out        the results directory, or null (single-layer job without --out)
 * @param pngDir     where PNGs go when there is no results directory (single-layer job), else null
 * @param layers     --layers regex (sweep) or the exact layer name (single-layer job, see {@code exactLayer})
 * @param cacheDir   --cache-dir as given, or null (then HF_HUB_CACHE, HF_HOME/hub, llm_weights)
 * @param pngSize    the pixel size of each layer's picture
 * @param shards     calibration partitions; 0 = Spark's default parallelism
 * @param env        the environment Hugging Face settings are read from (HF_TOKEN, HF_HUB_OFFLINE, ...)
 */
public record SweepOptions(
        String model,
        String repoId,
        String revision,
        String commit,
        Path modelDir,
        Path out,
        Path pngDir,
        boolean overwrite,
        int nsamples,
        int seqlen,
        long seed,
        String calibration,
        Path cacheDir,
        ComputeDtype dtype,
        String layers,
        boolean exactLayer,
        boolean png,
        PictureSize pngSize,
        int shards,
        int batchSize,
        String command,
        Map<String, String> env) {
}
