package io.layerscope.cli;

import io.layerscope.LayerscopeException;
import io.layerscope.spark.JobOptions;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Calibration and forward-pass options shared by {@code sweep} and {@code layer}. Sample count and
 * length default to Wanda's (128 x 2048) and, for the demo model, to 64 x 256 (its shipped corpus
 * is small).
 */
public final class CalibrationOptions {
    static final int DEFAULT_NSAMPLES = 128;
    /** submit.sh repeats both --seqlen defaults for its huge-page rule (SubmitScriptTest checks they agree). */
    static final int DEFAULT_SEQLEN = 2048;
    static final int DEMO_NSAMPLES = 64;
    static final int DEMO_SEQLEN = 256;

    @Option(names = "--nsamples", paramLabel = "N",
            description = "Calibration samples (Wanda's nsamples). Default: 128 (demo model: 64).")
    Integer nsamples;

    @Option(names = "--seqlen", paramLabel = "T",
            description = "Tokens per sample. Default: 2048 (demo model: 256).")
    Integer seqlen;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "SEED",
            description = "Seed of Wanda's sampling (Python's random.seed). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--calibration", paramLabel = "SOURCE", converter = LocalPathConverter.PathOrName.class,
            description = {"c4 (allenai/c4 shard 0 from the Hub, as Wanda), c4:N or c4:0,1,2 (other shards), demo"
                    + " (the shipped sample), or PATH: a C4-format .json.gz/.jsonl file or a directory of them.",
                "Default: c4 (demo with --model demo)."})
    String calibration;

    static final class DtypeNames extends java.util.ArrayList<String> {
        DtypeNames() {
            super(java.util.List.of("auto", "float32", "float16"));
        }
    }

    @Option(names = "--dtype", defaultValue = "auto", paramLabel = "DTYPE", completionCandidates = DtypeNames.class,
            description = "Forward-pass dtype: auto (float32 on CPU, float16 on GPU), float32 or float16. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--device", paramLabel = "DEVICE",
            description = {"Where local mode's tasks run: cpu, cuda (GPU 0), cuda:N, a GPU of this machine, or cuda:0,1"
                    + " (several: one calibration shard on each, the layers spread over them; the jar needs CUDA"
                    + " libtorch: mvn -Pcuda). Refused with a cluster's --master, where Spark gives the executors"
                    + " their GPUs (conf/gpu/spark-gpu.conf).", "Default: cpu."})
    String device;

    @Option(names = "--ship-model",
            description = {"Send the model's files (config.json, the safetensors index and the weights) to every executor through Spark, for a"
                    + " cluster whose nodes do not see the driver's model directory; each executor fetches them from the"
                    + " driver into its working directory at its first task. Local mode reads the model where it is."})
    boolean shipModel;

    @Option(names = "--shards", defaultValue = "0", paramLabel = "N",
            description = "Calibration shards (Spark partitions). Default: one per executor core or GPU slot (one per"
                    + " GPU with --device cuda).")
    int shards;

    @Option(names = {"--batch-size", "--batch_size"}, defaultValue = "1", paramLabel = "N",
            description = "Sequences per forward batch on an executor. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--calibration-cache", paramLabel = "DIR",
            description = {"Keep stage one's result (the calibration forward's activation sums and depth statistics) in"
                    + " DIR, and reuse it instead of running the forward again when the model files, the windows and"
                    + " the forward's settings are the same: another --sparsity or pictures cost only stage two (--gram's passes run a forward of their own)."
                    + " Created if absent. Default: no cache."})
    Path calibrationCache;

    @Option(names = "--calibration-cache-size", paramLabel = "SIZE",
            description = {"With --calibration-cache: the most its entries may take, as 500m, 10g ...; after each run"
                    + " the least recently used entries beyond it are removed (the run's own is always kept).",
                "Default: " + JobOptions.Calibration.DEFAULT_CACHE_SIZE + "."})
    String calibrationCacheSize;

    /** --calibration-cache-size in bytes (its default without it); refused without --calibration-cache. */
    long calibrationCacheBytes() {
        if (calibrationCacheSize != null && calibrationCache == null) {
            throw new LayerscopeException("--calibration-cache-size " + calibrationCacheSize + " needs --calibration-cache"
                    + " DIR: it bounds that directory");
        }
        return SizeOption.bytes("--calibration-cache-size",
                calibrationCacheSize != null ? calibrationCacheSize : JobOptions.Calibration.DEFAULT_CACHE_SIZE, "10g", "500m");
    }

    int nsamples(boolean demo) {
        return nsamples != null ? nsamples : demo ? DEMO_NSAMPLES : DEFAULT_NSAMPLES;
    }

    int seqlen(boolean demo) {
        return seqlen != null ? seqlen : demo ? DEMO_SEQLEN : DEFAULT_SEQLEN;
    }

    String calibration(boolean demo) {
        return calibration != null ? calibration : demo ? "demo" : "c4";
    }
}
