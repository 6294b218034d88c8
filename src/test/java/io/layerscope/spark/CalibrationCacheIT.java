package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.fixtures.TestEnvironment;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.model.DemoModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --calibration-cache on the demo model: the first run computes and keeps stage one, a second run
 * with the same windows reads it instead and writes the same tables, another --sparsity reuses it
 * too, and another --seed does not.
 */
class CalibrationCacheIT {
    private static final List<String> TABLES = List.of("layers", "activation_norms", "calibration", "blocks",
            "block_distances", "super_weights", "outlier_features");

    @TempDir
    static Path tmp;

    @Test
    void aRunWithTheSameWindowsReadsStageOneAndWritesTheSameTables() throws IOException {
        Path modelCache = tmp.resolve("models");
        Path model = DemoModel.ensure(modelCache);
        Path cache = tmp.resolve("stage-one");

        Said first = new Said();
        SweepJob.Outcome a = new SweepJob(options(model, modelCache, cache, "a", 0, 0.5), first.out).run();
        assertTrue(a.timings().containsKey("stage1_calibration") && a.timings().containsKey("stage1_cache"),
                a.timings().toString());
        assertTrue(first.text().contains("stage 1: not in the calibration cache " + cache + " yet; it will be kept there\n"),
                first.text());
        Path entry = only(cache);
        assertTrue(first.text().contains("stage 1: kept in " + entry + "\n"), first.text());
        RunRecord ra = RunRecord.read(tmp.resolve("a"));
        assertNull(ra.stageOneReused());
        assertEquals(cache.toString(), ra.options().calibration().cache());

        Said second = new Said();
        SweepJob.Outcome b = new SweepJob(options(model, modelCache, cache, "b", 0, 0.5), second.out).run();
        assertFalse(b.timings().containsKey("stage1_calibration"), "stage one did not run: " + b.timings());
        assertTrue(second.text().contains("stage 1: reused from " + entry + " (8 samples, computed by run " + ra.runId()
                + " at "), second.text());
        assertFalse(second.text().contains("stage 1: 8 samples in"), "no forward was submitted: " + second.text());
        RunRecord rb = RunRecord.read(tmp.resolve("b"));
        assertEquals(new RunRecord.StageOneReused(entry.toString(), rb.stageOneReused().createdAt(), ra.runId(),
                ra.timingsSeconds().get("stage1_calibration")), rb.stageOneReused());
        assertEquals(ra.devices(), rb.devices(), "the devices that computed stage one");
        assertEquals(List.of(), RunSchema.errors(tmp.resolve("b").resolve(RunRecord.FILE)));
        assertEquals(List.of(entry), files(cache));

        SparkSession spark = SparkSessions.getOrCreate("test");
        for (String table : TABLES) {
            Dataset<Row> x = table(spark, "a", table);
            Dataset<Row> y = table(spark, "b", table);
            assertTrue(x.count() > 0 || !List.of("layers", "activation_norms", "calibration", "blocks").contains(table), table);
            assertEquals(x.count(), y.count(), table);
            assertEquals(0, x.exceptAll(y).count(), table + ": rows of the first run the second lacks");
            assertEquals(0, y.exceptAll(x).count(), table + ": rows of the second run the first lacks");
        }

        // another sparsity is stage two's business: reused; another seed draws other windows: computed and kept
        Said third = new Said();
        new SweepJob(options(model, modelCache, cache, "c", 0, 0.6), third.out).run();
        assertTrue(third.text().contains("stage 1: reused from " + entry), third.text());
        Dataset<Row> x = table(spark, "a", "layers").selectExpr("layer", "act_norm_mean", "act_norm_max", "act_norm_hist_counts");
        Dataset<Row> z = table(spark, "c", "layers").selectExpr("layer", "act_norm_mean", "act_norm_max", "act_norm_hist_counts");
        assertEquals(0, x.exceptAll(z).count(), "the activation norms of a and c");
        Said fourth = new Said();
        new SweepJob(options(model, modelCache, cache, "d", 1, 0.5), fourth.out).run();
        assertTrue(fourth.text().contains("stage 1: not in the calibration cache"), fourth.text());
        assertEquals(2, files(cache).size());
        assertNull(RunRecord.read(tmp.resolve("d")).stageOneReused());
    }

    private static JobOptions options(Path model, Path modelCache, Path cache, String out, long seed, double sparsity) {
        return new JobOptions("sweep",
                new JobOptions.Model("demo", null, null, null, model, modelCache, TestEnvironment.offline()),
                new JobOptions.Calibration("demo", 8, 64, seed, ComputeDtype.FLOAT32, 2, 1).withCache(cache),
                JobOptions.Analysis.dense(null, false, sparsity),
                new JobOptions.Output(tmp.resolve(out), null, false, null));
    }

    private static Dataset<Row> table(SparkSession spark, String run, String table) {
        Dataset<Row> d = spark.read().parquet(tmp.resolve(run).resolve(table + ".parquet").toString()).drop("run_id");
        return table.equals("layers") ? d.drop("seconds") : d;
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    private static Path only(Path dir) throws IOException {
        List<Path> f = files(dir);
        assertEquals(1, f.size(), f.toString());
        return f.get(0);
    }

    /** What a job printed. */
    private static final class Said {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
