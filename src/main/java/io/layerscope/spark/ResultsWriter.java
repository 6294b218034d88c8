package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.calibration.CalibrationSample;
import io.layerscope.plot.CalibrationSummary;
import io.layerscope.plot.LayerSummary;
import io.layerscope.report.ReportHeader;
import io.layerscope.report.ReportedLayer;
import io.layerscope.report.SweepReport;
import io.layerscope.stats.LayerStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * Writes a results directory's contents (DESIGN.md, results contract) into a staging directory:
 * the Parquet tables, one PNG per layer under png/, the report (overview.png, png/thumbs/, index.html)
 * and run.json last.
 */
public final class ResultsWriter implements AutoCloseable {
    public static final String PNG_DIR = "png";

    private final SparkSession spark;
    private final Path dir;
    private CompletableFuture<Void> calibrationTable;

    public ResultsWriter(SparkSession spark, Path dir) {
        this.spark = spark;
        this.dir = dir;
    }

    /** Makes the run record once the tables and pictures are on disk, so it can report how long writing them took. */
    @FunctionalInterface
    public interface RunRecordSource {
        RunRecord get() throws IOException;
    }

    public void write(List<LayerResult> results, List<CalibrationSample> samples, RunRecord run) throws IOException {
        write(results, samples, () -> run);
    }

    /**
     * The three tables are written as concurrent Spark jobs (each a driver-side plan and commit that
     * would otherwise run one after another) while this thread writes the PNGs and the report; run.json
     * comes last, once everything else is on disk.
     */
    public void write(List<LayerResult> results, List<CalibrationSample> samples, RunRecordSource run) throws IOException {
        List<Row> layerRows = new ArrayList<>();
        List<Row> normRows = new ArrayList<>();
        List<ReportedLayer> reported = new ArrayList<>();
        for (LayerResult r : results) {
            String png = r.png() == null ? null : pngPath(r);
            layerRows.add(ResultTables.layerRow(r, png));
            ReportedLayer layer = new ReportedLayer(summary(r), png);
            reported.add(r.thumbnail() == null ? layer : layer.withThumbnail(SweepReport.thumbnailPath(png)));
            normRows.addAll(ResultTables.activationNormRows(r));
        }
        if (calibrationTable == null) {
            startCalibrationTable(samples);
        }
        List<CompletableFuture<Void>> tables = List.of(
                tableAsync(ResultTables.LAYERS, layerRows, ResultTables.layersSchema()),
                tableAsync(ResultTables.ACTIVATION_NORMS, normRows, ResultTables.activationNormsSchema()),
                calibrationTable);
        try {
            if (results.stream().anyMatch(r -> r.png() != null)) {
                Files.createDirectories(dir.resolve(PNG_DIR));
            }
            for (LayerResult r : results) {
                if (r.png() != null) {
                    Files.write(dir.resolve(pngPath(r)), r.png());
                }
                if (r.thumbnail() != null) {
                    Path thumbnail = dir.resolve(SweepReport.thumbnailPath(pngPath(r)));
                    Files.createDirectories(thumbnail.getParent());
                    Files.write(thumbnail, r.thumbnail());
                }
            }
        } finally {
            awaitAll(tables);
        }
        RunRecord record = run.get();
        SweepReport.write(dir, header(record), reported);
        record.write(dir);
    }

    /**
     * Starts writing calibration.parquet now, as a background Spark job. Its rows (the windows) are
     * known before the stages run, and a JVM's first Parquet write pays Spark SQL's set-up (planning,
     * code generation, class loading: seconds on a small machine), which then overlaps the stages
     * instead of following them. {@link #write} waits for it and reports its failure.
     */
    public void startCalibrationTable(List<CalibrationSample> samples) {
        if (calibrationTable != null) {
            throw new IllegalStateException("the calibration table is already being written");
        }
        calibrationTable = tableAsync(ResultTables.CALIBRATION, samples.stream().map(ResultTables::calibrationRow).toList(),
                ResultTables.calibrationSchema());
    }

    /** Waits for a table still being written: a failed job must not delete the staging directory under it. */
    @Override
    public void close() {
        if (calibrationTable != null) {
            calibrationTable.exceptionally(e -> null).join();
        }
    }

    /** Waits for every table (none is left running into a deleted staging directory), then throws the first failure. */
    private static void awaitAll(List<CompletableFuture<Void>> tables) throws IOException {
        Throwable first = null;
        for (CompletableFuture<Void> t : tables) {
            try {
                t.join();
            } catch (CompletionException e) {
                first = first == null ? e.getCause() : first;
            }
        }
        if (first instanceof IOException io) {
            throw io;
        } else if (first instanceof RuntimeException r) {
            throw r;
        } else if (first instanceof Error e) {
            throw e;
        } else if (first != null) {
            // SparkException is checked in Java's eyes; the caller finds the root cause in the chain
            throw new IllegalStateException(first.getMessage(), first);
        }
    }

    private CompletableFuture<Void> tableAsync(String name, List<Row> rows, StructType schema) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                table(name, rows, schema);
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "layerscope-write-" + name);
        t.setDaemon(true);
        t.start();
        return done;
    }

    /** Where a layer's picture goes, relative to the results directory (as the layers table and the report name it). */
    private static String pngPath(LayerResult r) {
        return PNG_DIR + "/" + r.pngName();
    }

    /** The numbers of a layer the report shows: the same values as its row in the layers table. */
    private static LayerSummary summary(LayerResult r) {
        LayerStats s = r.stats();
        return new LayerSummary(r.layer().name(), r.layer().block(), r.layer().kind().shortName(),
                r.layer().outFeatures(), r.layer().inFeatures(), s.actNorm().summary().mean(), s.wanda().summary().mean(),
                s.masks().row(), s.masks().layer(), s.masks().twoOfFour(),
                s.outliers().m3(), s.outliers().m5(), s.outliers().m7());
    }

    private static ReportHeader header(RunRecord run) {
        RunRecord.Options o = run.options();
        Map<String, String> details = new LinkedHashMap<>();
        if (run.model().commit() != null) {
            details.put("revision", run.model().revision() + " (" + run.model().commit() + ")");
        }
        details.put("dtype", run.computeDtype());
        details.put("devices", run.devices() == null ? null : String.join(", ", run.devices()));
        details.put("Spark master", o.master());
        details.put("created", run.createdAt() == null ? null
                : run.createdAt().replaceFirst("^(\\d{4}-\\d\\d-\\d\\d)T(\\d\\d:\\d\\d:\\d\\d)(\\.\\d+)?Z$", "$1 $2 UTC"));
        details.put("layerscope", run.toolVersion());
        details.values().removeIf(Objects::isNull);
        return new ReportHeader(run.model().repoId() != null ? run.model().repoId() : run.model().spec(),
                new CalibrationSummary(o.calibration(), o.nsamples(), o.seqlen(), o.seed()), details,
                Map.of(RunRecord.FILE, RunRecord.FILE));
    }

    /**
     * One Parquet file per table. The rows travel to the writing task as a broadcast, not inside the
     * task: a local DataFrame of a few MB (activation norms) would make one oversized task, which
     * Spark warns about on every run.
     */
    private void table(String name, List<Row> rows, StructType schema) throws IOException {
        Path table = dir.resolve(name + ".parquet");
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<List<Row>> shipped = jsc.broadcast(rows);
        try {
            jsc.setJobDescription("layerscope: write " + name + ".parquet");
            JavaRDD<Row> fromBroadcast = jsc.parallelize(List.of(0), 1).flatMap(i -> shipped.value().iterator());
            spark.createDataFrame(fromBroadcast, schema)
                    .write()
                    .mode(SaveMode.ErrorIfExists)
                    .parquet(table.toString());
        } finally {
            shipped.destroy();
        }
        requireDataFiles(table);
    }

    /**
     * Executors write the Parquet files and the driver commits them. When --out is on a disk only the
     * driver sees, the executors' files land on their own disks and the commit finds none: the table
     * would be silently empty.
     */
    private static void requireDataFiles(Path table) throws IOException {
        try (java.util.stream.Stream<Path> files = Files.list(table)) {
            if (files.noneMatch(f -> f.getFileName().toString().endsWith(".parquet"))) {
                throw new LayerscopeException("the executors wrote " + table.getFileName() + " where this driver cannot"
                        + " see it: no data files arrived in " + table + "; on a cluster --out must be on storage that the"
                        + " driver and every executor see at the same path (a shared file system)");
            }
        }
    }

    /** Single-layer job without a results directory: each PNG into {@code dir}, written whole or not at all. */
    public static Path writePngs(List<LayerResult> results, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path last = dir;
        for (LayerResult r : results) {
            if (r.png() == null) {
                continue;
            }
            Path target = dir.resolve(r.pngName());
            Path tmp = Files.createTempFile(dir, "." + r.pngName(), ".tmp");
            try {
                Files.write(tmp, r.png());
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            last = target;
        }
        return last;
    }
}
