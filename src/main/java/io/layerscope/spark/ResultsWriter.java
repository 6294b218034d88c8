package io.layerscope.spark;

import io.layerscope.Failures;
import io.layerscope.WholeFiles;
import io.layerscope.calibration.CalibrationSample;
import io.layerscope.plot.CalibrationSummary;
import io.layerscope.prune.PruneMode;
import io.layerscope.report.ReportHeader;
import io.layerscope.report.ReportedLayer;
import io.layerscope.report.SweepReport;
import io.layerscope.results.BlockResult;
import io.layerscope.results.BlocksTable;
import io.layerscope.results.DepthTables;
import io.layerscope.results.LayerResult;
import io.layerscope.results.LayersTable;
import io.layerscope.results.LocalFileModes;
import io.layerscope.results.ParquetCodec;
import io.layerscope.results.ParquetTable;
import io.layerscope.results.Provenance;
import io.layerscope.results.ResultTables;
import io.layerscope.results.Table;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

/**
 * Writes a results directory's contents (docs/ARCHITECTURE.md, spark) into a staging directory:
 * the Parquet tables, one PNG per layer under png/, the report (overview.png, png/thumbs/, index.html)
 * and run.json last.
 */
public final class ResultsWriter {
    public static final String PNG_DIR = "png";

    private final Configuration hadoopConf;
    private final ParquetTable.Format format;
    private final Provenance provenance;
    private final ResultsDirectory out;
    private final SweepHook hook;

    /**
     * Writes into {@code out}'s staging directory, one guarded step at a time (see
     * {@link ResultsDirectory#write}), through the Hadoop file systems {@code spark}'s context is
     * configured with, in the session's Parquet codec. Made before the job's stages run, so a codec
     * it cannot write fails the job at once, not after the analysis.
     */
    public ResultsWriter(SparkSession spark, ResultsDirectory out, Provenance provenance) {
        // the context's configuration (spark.hadoop.* settings), not the SQL session's: its set-up is not needed
        this.hadoopConf = LocalFileModes.install(new Configuration(spark.sparkContext().hadoopConfiguration()));
        this.format = new ParquetTable.Format(spark.version(), ParquetCodec.of(spark.sparkContext().getConf()));
        this.provenance = provenance;
        this.out = out;
        this.hook = SweepHooks.onDriver(spark.sparkContext());
    }

    /** Makes the run record once the tables and pictures are on disk, so it can report how long writing them took. */
    @FunctionalInterface
    public interface RunRecordSource {
        RunRecord get() throws IOException;
    }

    /**
     * The tables, the pictures and the report; run.json comes last, once everything else is on disk.
     * {@code depth} (null: none, --no-depth) adds the depth tables; without them the blocks table still
     * holds {@code blocks}' pruning side (OWL's ratios, the sparsities). The report's header comes from
     * {@code draft} (run.json without its weight hashes and final timings), so the report need not wait
     * for them.
     */
    public void write(List<LayerResult> results, List<CalibrationSample> samples, DepthResults depthTables,
                      List<BlockResult> blocks, RunRecord draft, RunRecordSource run) throws IOException {
        DepthResults depth = depthTables == null ? null : depthTables.withPruning(blocks);
        List<LayersTable.Source> layers = new ArrayList<>();
        List<ReportedLayer> reported = new ArrayList<>();
        for (LayerResult r : results) {
            String png = r.picture() == null ? null : pngPath(r);
            LayersTable.Source source = new LayersTable.Source(r, png);
            layers.add(source);
            ReportedLayer layer = new ReportedLayer(LayersTable.summary(source), png);
            reported.add(png == null ? layer : layer.withThumbnail(SweepReport.thumbnailPath(png)));
        }
        // the largest table and the report beside the others: the driver's other core idles once the
        // stages are done. One layer's rows at a time: a 70B model has millions of (layer, feature) rows.
        Beside norms = new Beside("layerscope-write-activation-norms", () -> table(new Configuration(hadoopConf),
                ResultTables.ACTIVATION_NORMS, results.stream().flatMap(ResultTables::features).iterator()));
        Beside report = new Beside("layerscope-write-report", () -> out.write(dir -> SweepReport.write(dir,
                header(draft), reported, depth == null ? null : depth.summary(draft.options().analysis().sequential()))));
        try {
            table(ResultTables.LAYERS, layers.iterator());
            hook.resultsWriting(out.staging());
            table(ResultTables.CALIBRATION, samples.iterator());
            if (depth == null) {
                table(BlocksTable.TABLE, blocks.stream().map(BlocksTable.Source::pruningOnly).iterator());
            } else {
                table(BlocksTable.TABLE, depth.blocks().iterator());
                table(DepthTables.BLOCK_DISTANCES, depth.distances().iterator());
                table(DepthTables.SUPER_WEIGHTS, depth.superWeights().iterator());
                table(DepthTables.OUTLIER_FEATURES, depth.outlierFeatures().iterator());
            }
            for (LayerResult r : results) {
                writePicture(r);   // those not written as their results arrived
            }
        } finally {
            // even after a failure here: nothing is still being written once this returns
            norms.join();
            report.join();
        }
        norms.rethrow();
        report.rethrow();
        out.write(run.get()::write);
    }

    /**
     * Writes {@code r}'s picture and thumbnail into the results being made, as its result reaches the
     * driver in the per-layer stage; returns the result without the bytes ({@link LayerResult#withPictureWritten}).
     */
    public LayerResult writePicture(LayerResult r) throws IOException {
        if (r.picture() == null || r.picture().written()) {
            return r;
        }
        out.write(dir -> writePictures(dir, r));
        return r.withPictureWritten();
    }

    private static void writePictures(Path dir, LayerResult r) throws IOException {
        Files.createDirectories(dir.resolve(PNG_DIR));
        Files.write(dir.resolve(pngPath(r)), r.picture().png());
        Path thumbnail = dir.resolve(SweepReport.thumbnailPath(pngPath(r)));
        Files.createDirectories(thumbnail.getParent());
        Files.write(thumbnail, r.picture().thumbnail());
    }

    /** Where a layer's picture goes, relative to the results directory (as the layers table and the report name it). */
    private static String pngPath(LayerResult r) {
        return PNG_DIR + "/" + r.pngName();
    }

    private static ReportHeader header(RunRecord run) {
        JobOptions.Recorded o = run.options();
        Map<String, String> details = new LinkedHashMap<>();
        if (run.model().commit() != null) {
            details.put("revision", run.model().revision() + " (" + run.model().commit() + ")");
        }
        details.put("dtype", run.computeDtype());
        details.put("devices", run.devices() == null ? null : String.join(", ", run.devices()));
        details.put("Spark master", o.master());
        if (run.calibration() != null && run.calibration().shards() != null) {
            // the scaler_rows' last bits depend on it: --shards with this count reproduces the run
            details.put("shards", run.calibration().shards() + " (stage one's calibration shards)");
        }
        details.put("created", run.createdAt() == null ? null
                : run.createdAt().replaceFirst("^(\\d{4}-\\d\\d-\\d\\d)T(\\d\\d:\\d\\d:\\d\\d)(\\.\\d+)?Z$", "$1 $2 UTC"));
        details.put("layerscope", run.toolVersion());
        if (!o.analysis().depth()) {
            details.put("depth tables", "left out (--no-depth)");
        }
        counted(details, "executors lost", run.executorsLost(), "executor", "Spark ran their tasks again elsewhere;"
                + " run.json's executorsLost says which and why");
        counted(details, "task attempts failed", run.taskAttemptsFailed(), "attempt", "Spark ran them again;"
                + " run.json's taskAttemptsFailed says which and why");
        if (run.stageOneReused() != null) {
            // the devices and dtype above are that run's
            details.put("stage one", "reused from run " + run.stageOneReused().runId() + " (--calibration-cache)");
        }
        if (run.calibration() != null && run.calibration().remembered() != null) {
            details.put("windows", "remembered from run " + run.calibration().remembered().runId() + ", which sampled them");
        }
        details.values().removeIf(Objects::isNull);
        return new ReportHeader(run.command(), run.model().repoId() != null ? run.model().repoId() : run.model().spec(),
                new CalibrationSummary(o.calibration().source(),
                o.calibration().nsamples(), o.calibration().seqlen(), o.calibration().seed()), view(o.analysis()),
                details, Map.of(RunRecord.FILE, RunRecord.FILE));
    }

    /** A header line "N things (why)" for a record of what Spark ran again, left out when there is none. */
    private static void counted(Map<String, String> details, String label, List<String> record, String thing, String why) {
        if (record != null && !record.isEmpty()) {
            int n = record.size();
            details.put(label, n + " " + thing + (n == 1 ? "" : "s") + " (" + why + ")");
        }
    }

    /**
     * What the statistics see, for the report's first line: "dense model, masks at sparsity 0.5",
     * "sequential pruning (Wanda's, block by block), OWL's block sparsities around 0.5 (lambda 0.08, M 5)",
     * "dense model, 2:4 masks".
     */
    static String view(JobOptions.Analysis a) {
        String seen = a.mode() == PruneMode.SEQUENTIAL ? "sequential pruning (Wanda's, block by block)" : "dense model";
        String masks = a.pattern().structured() ? a.pattern().label() + " masks"
                : a.allocation().owl() ? String.format(Locale.ROOT, "OWL's block sparsities around %s (lambda %s, M %s)",
                        decimal(a.sparsity()), decimal(a.allocation().lambda()), decimal(a.allocation().owlM()))
                : "masks at sparsity " + decimal(a.sparsity());
        return seen + ", " + masks;
    }

    /** 0.5, 0.08, 5: as typed, without a trailing ".0". */
    private static String decimal(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /** One Parquet file per table, written by the driver, which holds the rows (see {@link ParquetTable}). */
    private <T> void table(Table<T> table, Iterator<T> sources) throws IOException {
        table(hadoopConf, table, sources);
    }

    private <T> void table(Configuration conf, Table<T> table, Iterator<T> sources) throws IOException {
        out.write(dir -> ParquetTable.write(conf, dir, table, sources, format, provenance));
    }

    /** A step of writing on a thread of its own, started at once; {@link #join} waits, {@link #rethrow} reports its failure. */
    private static final class Beside {
        private final Thread thread;
        private volatile Throwable failure;

        interface Work {
            void run() throws IOException;
        }

        Beside(String name, Work work) {
            thread = new Thread(() -> {
                try {
                    work.run();
                } catch (Throwable e) {
                    failure = e;
                }
            }, name);
            thread.setDaemon(true);
            thread.start();
        }

        void join() {
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        void rethrow() throws IOException {
            Throwable e = failure;
            if (e != null) {
                throw Failures.asIOException(e);
            }
        }
    }

    /** Single-layer job without a results directory: each PNG into {@code dir}, written whole or not at all. */
    public static Path writePngs(List<LayerResult> results, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path last = dir;
        for (LayerResult r : results) {
            if (r.picture() == null) {
                continue;
            }
            Path target = dir.resolve(r.pngName());
            WholeFiles.write(target, r.picture().png());
            last = target;
        }
        return last;
    }
}
