package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.calibration.CalibrationSample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * Writes a results directory's contents (DESIGN.md, results contract) into a staging directory:
 * the Parquet tables, one PNG per layer under png/, and run.json last.
 */
public final class ResultsWriter {
    public static final String PNG_DIR = "png";

    private final SparkSession spark;
    private final Path dir;

    public ResultsWriter(SparkSession spark, Path dir) {
        this.spark = spark;
        this.dir = dir;
    }

    public void write(List<LayerResult> results, List<CalibrationSample> samples, RunRecord run) throws IOException {
        List<Row> layerRows = new ArrayList<>();
        List<Row> normRows = new ArrayList<>();
        boolean pngs = results.stream().anyMatch(r -> r.png() != null);
        if (pngs) {
            Files.createDirectories(dir.resolve(PNG_DIR));
        }
        for (LayerResult r : results) {
            String png = null;
            if (r.png() != null) {
                png = PNG_DIR + "/" + r.pngName();
                Files.write(dir.resolve(png), r.png());
            }
            layerRows.add(ResultTables.layerRow(r, png));
            normRows.addAll(ResultTables.activationNormRows(r));
        }
        table(ResultTables.LAYERS, layerRows, ResultTables.layersSchema());
        table(ResultTables.ACTIVATION_NORMS, normRows, ResultTables.activationNormsSchema());
        table(ResultTables.CALIBRATION, samples.stream().map(ResultTables::calibrationRow).toList(),
                ResultTables.calibrationSchema());
        run.write(dir);
    }

    private void table(String name, List<Row> rows, StructType schema) throws IOException {
        Path table = dir.resolve(name + ".parquet");
        spark.createDataFrame(rows, schema)
                .coalesce(1)
                .write()
                .mode(SaveMode.ErrorIfExists)
                .parquet(table.toString());
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
