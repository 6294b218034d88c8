package io.layerscope.spark;

import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.plot.PictureSize;
import io.layerscope.prune.Allocation;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.SparsityPattern;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Map;

/**
 * The options of one sweep or single-layer job, built once by the command line and passed down
 * unchanged, in four groups. run.json records the calibration, analysis and output groups as they
 * are ({@link #recorded}), so a new option in one of them is recorded with no further code.
 *
 * @param command     {@code sweep} or {@code layer}
 * @param model       what the user asked for and where it resolved (run.json's model section)
 * @param calibration the calibration windows and the forward that runs them
 * @param analysis    which layers and how they are analysed
 * @param output      where results go
 */
public record JobOptions(String command, Model model, Calibration calibration, Analysis analysis, Output output) {

    /**
     * @param spec     what the user typed for --model (directory, repo id or "demo")
     * @param dir      the resolved local model directory
     * @param cacheDir --cache-dir as given, or null (then the Hugging Face variables, else llm_weights)
     * @param env      the environment Hugging Face settings are read from (HF_TOKEN, HF_HUB_OFFLINE, ...);
     *                 never recorded or shipped to executors
     */
    public record Model(String spec, String repoId, String revision, String commit, Path dir, Path cacheDir,
                        Map<String, String> env) {
        public Model {
            env = Map.copyOf(env);
        }
    }

    /**
     * @param source    --calibration: c4, c4:N, demo or a path
     * @param shards    calibration partitions; 0 = Spark's default parallelism
     * @param batchSize sequences per forward batch on an executor
     * @param cache     --calibration-cache: the directory stage one's results are kept in and reused from, or null
     * @param cacheSize --calibration-cache-size: the bytes the cache's entries may take (0 without a cache)
     * @param device    --device as cpu or cuda:N (cuda is cuda:0): where local mode's tasks run; null: where Spark
     *                  puts them (a cluster's GPUs, else the CPUs)
     * @param shipModel --ship-model: the model's files sent to the executors through Spark instead of read
     *                  at the driver's path
     */
    public record Calibration(String source, int nsamples, int seqlen, long seed, ComputeDtype dtype, int shards,
                              int batchSize, String cache, long cacheSize, String device, boolean shipModel)
            implements Serializable {
        private static final long serialVersionUID = 1L;
        /** --calibration-cache-size's default: room for many entries, small beside the checkpoints they come from. */
        public static final String DEFAULT_CACHE_SIZE = "10g";

        /** Without a calibration cache. */
        public Calibration(String source, int nsamples, int seqlen, long seed, ComputeDtype dtype, int shards,
                           int batchSize) {
            this(source, nsamples, seqlen, seed, dtype, shards, batchSize, null, 0, null, false);
        }

        /**
         * The same calibration with stage one's results kept in and reused from {@code dir} (null: none),
         * whose entries may take {@code maxBytes}.
         */
        public Calibration withCache(Path dir, long maxBytes) {
            return new Calibration(source, nsamples, seqlen, seed, dtype, shards, batchSize,
                    dir == null ? null : dir.toAbsolutePath().normalize().toString(), dir == null ? 0 : maxBytes, device,
                    shipModel);
        }

        /** The same calibration run by local mode's tasks on {@code device} (cpu or cuda:N; null: where Spark puts them). */
        public Calibration withDevice(String device) {
            return new Calibration(source, nsamples, seqlen, seed, dtype, shards, batchSize, cache, cacheSize, device,
                    shipModel);
        }

        /** The same calibration with the model's files sent to the executors (--ship-model) or not. */
        public Calibration withShipModel(boolean ship) {
            return new Calibration(source, nsamples, seqlen, seed, dtype, shards, batchSize, cache, cacheSize, device, ship);
        }
    }

    /**
     * @param layers     --layers regex (sweep; null: every layer) or the exact layer name (single-layer job)
     * @param exactLayer whether {@code layers} is one exact name
     * @param sparsity   the share of weights every mask prunes (the mean over blocks with OWL)
     * @param mode       dense or sequential (Wanda's prune_wanda)
     * @param pattern    unstructured or N:M masks
     * @param allocation how the sparsity is spread over the blocks
     * @param outlierBlockShare    least share of blocks where a channel reaches |x| >= 6 to be a systematic outlier feature
     * @param outlierPositionShare least share of token positions where it does
     * @param gram       whether to accumulate every tap's Gram matrix for the output error of each mask (--gram)
     * @param gramMemory bytes of Gram matrices an executor may hold at once (--gram-memory): decides the passes
     * @param statsDevice where stage two computes each layer's statistics (--stats-device)
     * @param depth      whether a run with a results directory computes and writes the depth tables (false:
     *                   --no-depth); null reads as true
     */
    public record Analysis(String layers, boolean exactLayer, double sparsity, PruneMode mode, SparsityPattern pattern,
                           Allocation allocation, double outlierBlockShare, double outlierPositionShare, boolean gram,
                           long gramMemory, StatsDevice statsDevice, Boolean depth)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        public Analysis {
            // run.json written before --stats-device and --no-depth existed reads back as their defaults
            statsDevice = statsDevice == null ? StatsDevice.AUTO : statsDevice;
            depth = depth == null || depth;
        }

        /** With the depth tables. */
        public Analysis(String layers, boolean exactLayer, double sparsity, PruneMode mode, SparsityPattern pattern,
                        Allocation allocation, double outlierBlockShare, double outlierPositionShare, boolean gram,
                        long gramMemory, StatsDevice statsDevice) {
            this(layers, exactLayer, sparsity, mode, pattern, allocation, outlierBlockShare, outlierPositionShare, gram,
                    gramMemory, statsDevice, true);
        }

        /** With --stats-device auto. */
        public Analysis(String layers, boolean exactLayer, double sparsity, PruneMode mode, SparsityPattern pattern,
                        Allocation allocation, double outlierBlockShare, double outlierPositionShare, boolean gram,
                        long gramMemory) {
            this(layers, exactLayer, sparsity, mode, pattern, allocation, outlierBlockShare, outlierPositionShare, gram,
                    gramMemory, StatsDevice.AUTO);
        }

        /** The same analysis with its statistics computed where {@code where} says. */
        public Analysis withStatsDevice(StatsDevice where) {
            return new Analysis(layers, exactLayer, sparsity, mode, pattern, allocation, outlierBlockShare,
                    outlierPositionShare, gram, gramMemory, where, depth);
        }

        /** The same analysis with or without the depth tables. */
        public Analysis withDepth(boolean on) {
            return new Analysis(layers, exactLayer, sparsity, mode, pattern, allocation, outlierBlockShare,
                    outlierPositionShare, gram, gramMemory, statsDevice, on);
        }

        /** --gram-memory's default: room for a Llama-3.2-1B block group on an 8-16 GB executor. */
        public static final String DEFAULT_GRAM_MEMORY = "4g";
        public static final long DEFAULT_GRAM_MEMORY_BYTES = 4L << 30;

        /** LLM.int8's systematic outlier features: in at least 25% of the blocks and 6% of the positions. */
        public static final double DEFAULT_OUTLIER_BLOCK_SHARE = 0.25;
        public static final double DEFAULT_OUTLIER_POSITION_SHARE = 0.06;

        /** With the default outlier feature thresholds. */
        public Analysis(String layers, boolean exactLayer, double sparsity, PruneMode mode, SparsityPattern pattern,
                        Allocation allocation) {
            this(layers, exactLayer, sparsity, mode, pattern, allocation, DEFAULT_OUTLIER_BLOCK_SHARE,
                    DEFAULT_OUTLIER_POSITION_SHARE, false, DEFAULT_GRAM_MEMORY_BYTES);
        }

        /** The same analysis with or without the Gram matrices, within {@code memory} bytes per executor. */
        public Analysis withGram(boolean on, long memory) {
            return new Analysis(layers, exactLayer, sparsity, mode, pattern, allocation, outlierBlockShare,
                    outlierPositionShare, on, memory, statsDevice, depth);
        }

        /** The statistics of the default, today's: dense, unstructured, uniform, default outlier thresholds. */
        public Analysis(String layers, boolean exactLayer, double sparsity) {
            this(layers, exactLayer, sparsity, PruneMode.DENSE, SparsityPattern.UNSTRUCTURED, Allocation.uniform());
        }

        /** The same as {@link #Analysis(String, boolean, double)}. */
        public static Analysis dense(String layers, boolean exactLayer, double sparsity) {
            return new Analysis(layers, exactLayer, sparsity);
        }

        public boolean sequential() {
            return mode == PruneMode.SEQUENTIAL;
        }
    }

    /**
     * @param out       the results directory, or null (single-layer job without --out)
     * @param pngDir    where PNGs go when there is no results directory (single-layer job), else null
     * @param overwrite whether an existing results directory layerscope wrote may be replaced
     * @param pngSize   the pixel size of each layer's picture, or null for no pictures
     * @param savePruned where to write the pruned checkpoint, or null
     * @param imatrix   where llama.cpp's importance matrix goes (sweep --imatrix), or null
     */
    public record Output(@JsonSerialize(using = ToStringSerializer.class) Path out,
                         @JsonSerialize(using = ToStringSerializer.class) Path pngDir,
                         boolean overwrite, PictureSize pngSize,
                         @JsonSerialize(using = ToStringSerializer.class) Path savePruned,
                         @JsonSerialize(using = ToStringSerializer.class) Path imatrix) {
        public Output(Path out, Path pngDir, boolean overwrite, PictureSize pngSize) {
            this(out, pngDir, overwrite, pngSize, null, null);
        }

        public Output withImatrix(Path file) {
            return new Output(out, pngDir, overwrite, pngSize, savePruned, file);
        }

        public boolean png() {
            return pngSize != null;
        }
    }

    /** What run.json records as the job's options: three of the groups as they are, and the Spark master. */
    public record Recorded(Calibration calibration, Analysis analysis, Output output, String master) {
    }

    public JobOptions withOutput(Output other) {
        return new JobOptions(command, model, calibration, analysis, other);
    }

    public Recorded recorded(String master) {
        return new Recorded(calibration, analysis, output, master);
    }
}
