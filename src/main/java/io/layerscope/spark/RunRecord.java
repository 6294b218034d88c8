package io.layerscope.spark;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.layerscope.LayerscopeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What ran, as {@code run.json}: the typed provenance of a results directory (model and its file
 * hashes, every option, the calibration windows, devices, library versions, stage timings).
 * Written by {@link #write(Path)} and read back by {@link #read(Path)}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunRecord(
        int schemaVersion,
        String tool,
        String toolVersion,
        String runId,
        String command,
        String createdAt,
        Model model,
        JobOptions.Recorded options,
        Calibration calibration,
        String computeDtype,
        List<String> devices,
        Integer forwardBlocks,
        List<Double> blockSparsity,
        Map<String, String> versions,
        Map<String, Double> timingsSeconds,
        List<String> layers,
        Gram gram,
        StageOneReused stageOneReused,
        List<String> executorsLost,
        List<String> taskAttemptsFailed) {

    public static final String FILE = "run.json";

    /**
     * How --gram ran (null without it): the passes over the calibration data and the taps of each,
     * the memory budget and the concurrent tasks per executor it was split for, the libtorch threads
     * each Gram task ran on (its products round by them), the passes' tasks and those that started
     * from the residual stream the previous pass kept, and the built-in check: the largest relative
     * difference between diag(G) / nsamples and scaler_row over every tap.
     */
    public record Gram(int passes, List<List<String>> taps, long memoryBytes, int tasksPerExecutor,
                       int libtorchThreadsPerTask, int passTasks, int resumedTasks, double diagonalMaxRelativeDifference) {
    }

    /**
     * Stage one read from --calibration-cache instead of run (null when it ran): the entry's file, when
     * and by which run it was computed, and the seconds the forward took then.
     */
    public record StageOneReused(String file, String createdAt, String runId, double seconds) {
    }

    /** This record with {@code g} as its gram section. */
    public RunRecord withGram(Gram g) {
        return new RunRecord(schemaVersion, tool, toolVersion, runId, command, createdAt, model, options, calibration,
                computeDtype, devices, forwardBlocks, blockSparsity, versions, timingsSeconds, layers, g, stageOneReused,
                executorsLost, taskAttemptsFailed);
    }

    /**
     * This record with {@code w} as its calibration's remembered windows (null: sampled) and
     * {@code shards} as stage one's partition count.
     */
    public RunRecord withStageOne(WindowsRemembered w, int shards) {
        Calibration c = new Calibration(calibration.source(), calibration.files(), calibration.documents(), shards,
                calibration.windows(), w);
        return new RunRecord(schemaVersion, tool, toolVersion, runId, command, createdAt, model, options, c,
                computeDtype, devices, forwardBlocks, blockSparsity, versions, timingsSeconds, layers, gram, stageOneReused,
                executorsLost, taskAttemptsFailed);
    }

    /** This record with {@code r} as its stage-one reuse section. */
    public RunRecord withStageOneReused(StageOneReused r) {
        return new RunRecord(schemaVersion, tool, toolVersion, runId, command, createdAt, model, options, calibration,
                computeDtype, devices, forwardBlocks, blockSparsity, versions, timingsSeconds, layers, gram, r, executorsLost,
                taskAttemptsFailed);
    }

    /**
     * This record with what Spark ran again: the executors the job lost ({@code lost}: "executor N on
     * HOST: reason") and its failed task attempts ({@code failed}); each absent when none.
     */
    public RunRecord withSetbacks(List<String> lost, List<String> failed) {
        return new RunRecord(schemaVersion, tool, toolVersion, runId, command, createdAt, model, options, calibration,
                computeDtype, devices, forwardBlocks, blockSparsity, versions, timingsSeconds, layers, gram, stageOneReused,
                orAbsent(lost), orAbsent(failed));
    }

    private static List<String> orAbsent(List<String> l) {
        return l == null || l.isEmpty() ? null : List.copyOf(l);
    }
    /**
     * The version of run.json's layout (docs/run.schema.json): raised when a field changes meaning
     * or is removed, so readers can refuse a layout they do not know. New fields keep the version.
     */
    public static final int SCHEMA_VERSION = 1;

    // runId: the run's id, also each table's run_id column and its Parquet footers' layerscope.run_id.
    // options: the job's options as the command line built them (JobOptions.recorded).
    // computeDtype: the type the forward computed in, as the executors resolved --dtype (auto).
    // forwardBlocks: decoder blocks the calibration forward ran (a single-layer job stops early).
    // blockSparsity: per block the forward covered, its sparsity under options.analysis.allocation.

    /** The model: what the user typed, where it was found, and a hash of every weight file. */
    public record Model(String spec, String repoId, String revision, String commit, String directory,
                        List<WeightFile> files, Map<String, Object> config) {
    }

    public record WeightFile(String name, long bytes, String sha256) {
    }

    /**
     * The calibration set: source files and, per sample, its document index and window start;
     * {@code shards}, stage one's partitions (their float32 sums are added in partition order, so
     * scaler_row's last bits depend on it); {@code remembered} is null when this run sampled the
     * windows itself.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Calibration(String source, List<String> files, int documents, Integer shards, List<Window> windows,
                              WindowsRemembered remembered) {
    }

    /**
     * Windows read from the cache of sampled windows instead of sampled: the entry's file, when and by
     * which run they were sampled, and the seconds sampling took then.
     */
    public record WindowsRemembered(String file, String sampledAt, String runId, double seconds) {
    }

    public record Window(int sample, int doc, int start) {
    }

    private static ObjectMapper json() {
        return new ObjectMapper()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    public void write(Path dir) throws IOException {
        Files.writeString(dir.resolve(FILE), json().writeValueAsString(this) + "\n");
    }

    public static RunRecord read(Path dir) {
        Path f = dir.resolve(FILE);
        try {
            return json().readValue(Files.readAllBytes(f), RunRecord.class);
        } catch (NoSuchFileException e) {
            throw new LayerscopeException(dir + " is not a layerscope results directory (no " + FILE + ")");
        } catch (IOException e) {
            throw new LayerscopeException(f + ": cannot read (" + e.getMessage() + ")", e);
        }
    }
}
