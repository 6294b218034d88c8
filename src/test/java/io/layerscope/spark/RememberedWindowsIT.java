package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.fixtures.TestEnvironment;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.model.DemoModel;
import io.layerscope.spark.CalibrationCacheTest.Said;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sampled windows remembered in the user's cache: a second sweep with the same calibration file,
 * tokenizer and settings reads them instead of sampling, writes the same tables and says so in
 * run.json; another seed samples again.
 */
class RememberedWindowsIT {
    @TempDir
    static Path tmp;

    @Test
    void aSecondRunReadsTheWindowsTheFirstSampled() throws Exception {
        Path modelCache = tmp.resolve("models");
        Path model = DemoModel.ensure(modelCache);
        Path windows = tmp.resolve("xdg").resolve("layerscope").resolve("windows");

        Said first = new Said();
        SweepJob.Outcome a = new SweepJob(options(model, modelCache, "a", 0), first.out).run();
        assertTrue(first.text().contains("calibration: 8 samples x 64 tokens, seed 0, from demo\n"), first.text());
        assertTrue(first.text().contains(" documents read in "), first.text());
        List<Path> entries = files(windows);
        assertEquals(1, entries.size(), entries.toString());
        Path entry = entries.get(0);
        RunRecord ra = RunRecord.read(tmp.resolve("a"));
        assertNull(ra.calibration().remembered());

        Said second = new Said();
        SparkSession spark = SparkSessions.getOrCreate("test");
        JobsStarted jobs = new JobsStarted();
        spark.sparkContext().addSparkListener(jobs);
        SweepJob.Outcome b;
        try {
            b = new SweepJob(options(model, modelCache, "b", 0), second.out).run();
        } finally {
            spark.sparkContext().listenerBus().waitUntilEmpty();
            spark.sparkContext().removeSparkListener(jobs);
        }
        // windows read back at once must not let stage one overtake the warm-up job to the scheduler
        assertTrue(jobs.descriptions.size() > 2, jobs.descriptions.toString());
        assertEquals("layerscope: load and warm the model on the executors", jobs.descriptions.get(0));
        assertTrue(jobs.descriptions.get(1).startsWith("layerscope stage 1: "), jobs.descriptions.toString());
        assertTrue(second.text().contains("calibration: windows remembered in " + entry + " (sampled by run " + ra.runId()
                + " at "), second.text());
        assertTrue(second.text().contains(" from " + ra.calibration().documents() + " documents); not sampled again\n"),
                second.text());
        assertFalse(second.text().contains("documents read in"), "the shard was not read: " + second.text());
        assertEquals(a.samples(), b.samples(), "every window's document, start and tokens");
        RunRecord rb = RunRecord.read(tmp.resolve("b"));
        assertEquals(new RunRecord.WindowsRemembered(entry.toString(), rb.calibration().remembered().sampledAt(),
                ra.runId(), ra.timingsSeconds().get("sampling")), rb.calibration().remembered());
        assertEquals(ra.calibration().documents(), rb.calibration().documents());
        assertEquals(ra.calibration().windows(), rb.calibration().windows());
        assertEquals(List.of(), RunSchema.errors(tmp.resolve("b").resolve(RunRecord.FILE)));
        assertTrue(Files.readString(tmp.resolve("b").resolve("index.html")).contains("remembered from run " + ra.runId()
                + ", which sampled them"), "the report says where the windows came from");
        assertFalse(Files.readString(tmp.resolve("a").resolve("index.html")).contains("remembered from run"));
        for (String table : List.of("calibration", "layers", "activation_norms")) {
            Dataset<Row> x = table(spark, "a", table);
            Dataset<Row> y = table(spark, "b", table);
            assertTrue(x.count() > 0, table);
            assertEquals(0, x.exceptAll(y).count(), table + ": rows of the first run the second lacks");
            assertEquals(0, y.exceptAll(x).count(), table + ": rows of the second run the first lacks");
        }

        Said third = new Said();
        new SweepJob(options(model, modelCache, "c", 1), third.out).run();
        assertTrue(third.text().contains(" documents read in "), "another seed samples: " + third.text());
        assertNull(RunRecord.read(tmp.resolve("c")).calibration().remembered());
        assertEquals(2, files(windows).size());
    }

    /** The descriptions of the jobs Spark starts, in the order it starts them. */
    private static final class JobsStarted extends SparkListener {
        final List<String> descriptions = new CopyOnWriteArrayList<>();

        @Override
        public void onJobStart(SparkListenerJobStart job) {
            descriptions.add(job.properties() == null ? "" : job.properties().getProperty("spark.job.description", ""));
        }
    }

    private static JobOptions options(Path model, Path modelCache, String out, long seed) {
        return new JobOptions("sweep",
                new JobOptions.Model("demo", null, null, null, model, modelCache,
                        TestEnvironment.with("HF_HUB_OFFLINE", "1", "XDG_CACHE_HOME", tmp.resolve("xdg").toString())),
                new JobOptions.Calibration("demo", 8, 64, seed, ComputeDtype.FLOAT32, 2, 1),
                JobOptions.Analysis.dense(null, false, 0.5),
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
}
