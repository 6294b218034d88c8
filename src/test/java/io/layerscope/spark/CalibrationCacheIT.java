package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.fixtures.TestEnvironment;
import io.layerscope.hub.ConsoleProgress;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.model.DemoModel;
import io.layerscope.plot.PictureSize;
import io.layerscope.prune.Allocation;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.SparsityPattern;
import io.layerscope.spark.CalibrationCacheTest.Said;
import java.io.IOException;
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

    /** A cache size no test's entries reach. */
    private static final long ROOM = 1L << 30;

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
        JsonNode about = new ObjectMapper().readTree(entry.resolveSibling(entry.getFileName().toString()
                .replace(".bin", ".json")).toFile());
        assertEquals("demo", about.get("model").asText());
        assertEquals(model.toAbsolutePath().normalize().toString(), about.get("modelDirectory").asText());
        assertEquals("demo", about.get("calibration").asText());
        assertEquals(List.of(8, 64, 0, 2, 4), List.of(about.get("nsamples").asInt(), about.get("seqlen").asInt(),
                about.get("seed").asInt(), about.get("shards").asInt(), about.get("blocks").asInt()));
        assertTrue(about.get("depthStatistics").asBoolean());
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
        assertTrue(Files.readString(tmp.resolve("b").resolve("index.html")).contains("reused from run " + ra.runId()
                + " (--calibration-cache)"), "the report says where stage one came from");
        assertFalse(Files.readString(tmp.resolve("a").resolve("index.html")).contains("reused from run"));

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

        // a cache with room for one entry: reading a's entry makes it the most recently used, so d's goes
        Path seedOne = files(cache).stream().filter(f -> !f.equals(entry)).findFirst().orElseThrow();
        long oneEntry = Files.size(entry) + Files.size(description(entry));
        long removed = Files.size(seedOne) + Files.size(description(seedOne));
        JobOptions o = options(model, modelCache, cache, "e", 0, 0.5);
        Said fifth = new Said();
        new SweepJob(new JobOptions(o.command(), o.model(), o.calibration().withCache(cache, oneEntry), o.analysis(),
                o.output()), fifth.out).run();
        assertTrue(fifth.text().contains("stage 1: reused from " + entry), fifth.text());
        assertTrue(fifth.text().contains("calibration cache: removed 1 least recently used entry ("
                + ConsoleProgress.bytes(removed) + ") to keep " + cache + " within "
                + ConsoleProgress.bytes(oneEntry) + " (--calibration-cache-size)\n"), fifth.text());
        assertEquals(List.of(entry), files(cache));
    }

    private static Path description(Path entry) {
        return entry.resolveSibling(entry.getFileName().toString().replace(".bin", ".json"));
    }

    /**
     * A single-layer job without --out gathers no depth statistics, so a sweep's entry serves it: the
     * sums of its block's taps are those of a fresh job to the bit, and so is its picture. So does
     * sequential mode, with the tables of a fresh run. With --out a single-layer job writes the depth
     * tables of its blocks, which a whole-model entry cannot give.
     */
    @Test
    void aSingleLayerPictureTakesItsTapsFromASweepsEntry() throws IOException {
        Path modelCache = tmp.resolve("models");
        Path model = DemoModel.ensure(modelCache);
        Path cache = tmp.resolve("from-a-sweep");
        new SweepJob(options(model, modelCache, cache, "sweep", 0, 0.5), new Said().out).run();
        Path entry = only(cache);

        String layer = "model.layers.1.mlp.down_proj";
        Said reused = new Said();
        SweepJob.Outcome a = new SweepJob(layerOptions(model, modelCache, cache, layer, null, "png-reused"), reused.out).run();
        assertTrue(reused.text().contains("stage 1: reused from " + entry + " (8 samples, the taps of blocks 0..1 of a"
                + " whole-model forward, computed by run "), reused.text());
        assertEquals(List.of(entry), files(cache), "nothing stored: the sweep's entry served");
        SweepJob.Outcome b = new SweepJob(layerOptions(model, modelCache, null, layer, null, "png-fresh"), new Said().out).run();
        assertTrue(b.timings().containsKey("stage1_calibration"), "computed: " + b.timings());
        assertEquals(b.stage1().sums().keys(), a.stage1().sums().keys(), "the taps of blocks 0..1 alone");
        for (String k : b.stage1().sums().keys()) {
            float[] want = b.stage1().sums().sumSq().get(k);
            float[] got = a.stage1().sums().sumSq().get(k);
            for (int i = 0; i < want.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), k + "[" + i + "]");
            }
        }
        String png = "layer_analysis_" + layer + ".png";
        assertArrayEquals(Files.readAllBytes(tmp.resolve("png-fresh").resolve(png)),
                Files.readAllBytes(tmp.resolve("png-reused").resolve(png)));

        // sequential mode's depth statistics come from its own passes: its dense forward is the sweep's
        Said sequential = new Said();
        new SweepJob(sequentialOptions(model, modelCache, cache, "seq-reused"), sequential.out).run();
        assertTrue(sequential.text().contains("stage 1: reused from " + entry), sequential.text());
        new SweepJob(sequentialOptions(model, modelCache, null, "seq-fresh"), new Said().out).run();
        SparkSession spark = SparkSessions.getOrCreate("test");
        assertSameTables(spark, "seq-fresh", "seq-reused", "sequential mode's");

        // with --out it also writes the depth tables of blocks 0..1: cut from the sweep's entry, they are
        // a fresh job's to the bit (the any-block outlier positions from each position's first block)
        Said withOut = new Said();
        new SweepJob(layerOptions(model, modelCache, cache, layer, tmp.resolve("layer-out"), null), withOut.out).run();
        assertTrue(withOut.text().contains("stage 1: reused from " + entry + " (8 samples, the taps and depth statistics"
                + " of blocks 0..1 of a whole-model forward, computed by run "), withOut.text());
        assertEquals(List.of(entry), files(cache), "nothing stored: the sweep's entry served");
        new SweepJob(layerOptions(model, modelCache, null, layer, tmp.resolve("layer-out-fresh"), null), new Said().out).run();
        assertSameTables(spark, "layer-out-fresh", "layer-out", "a single layer's");
        assertEquals(2, table(spark, "layer-out", "blocks").count());
        assertTrue(table(spark, "layer-out", "outlier_features").count() > 0, "the demo model's planted outlier features");
    }

    /** Every table of two results directories under tmp, row for row, but for run ids and seconds. */
    private static void assertSameTables(SparkSession spark, String a, String b, String what) {
        for (String table : TABLES) {
            Dataset<Row> x = table(spark, a, table);
            Dataset<Row> y = table(spark, b, table);
            assertEquals(x.count(), y.count(), what + " " + table);
            assertEquals(0, x.exceptAll(y).count() + y.exceptAll(x).count(), what + " " + table);
        }
    }

    /**
     * With the cache, whether stage one runs is known only after sampling: the start-up's warm-up
     * (the job, and in local mode the preload) leaves the model out, which it loads without the cache.
     */
    @Test
    void withTheCacheTheWarmUpLeavesTheModelOut() throws InterruptedException {
        Path model = DemoModel.ensure(tmp.resolve("models"));
        ModelSpec spec = new ModelSpec(model.toString(), ComputeDtype.FLOAT32, 3, List.of(), 1);
        for (boolean warmModel : new boolean[] {false, true}) {
            ExecutorResources.releaseModels();
            SparkStartup startup = SparkStartup.begin("test", spec, 64, "0", null, warmModel);
            startup.session();
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (startup.warmUpSeconds().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(startup.warmUpSeconds().isPresent(), "the warm-up ended");
            assertEquals(warmModel, ExecutorResources.holdsModels(), "model warmed: " + warmModel);
        }
        ExecutorResources.releaseModels();
    }

    private static JobOptions options(Path model, Path modelCache, Path cache, String out, long seed, double sparsity) {
        return new JobOptions("sweep",
                new JobOptions.Model("demo", null, null, null, model, modelCache, TestEnvironment.offline()),
                new JobOptions.Calibration("demo", 8, 64, seed, ComputeDtype.FLOAT32, 2, 1).withCache(cache, ROOM),
                JobOptions.Analysis.dense(null, false, sparsity),
                new JobOptions.Output(tmp.resolve(out), null, false, null));
    }

    private static JobOptions sequentialOptions(Path model, Path modelCache, Path cache, String out) {
        JobOptions o = options(model, modelCache, cache, out, 0, 0.5);
        return new JobOptions("sweep", o.model(), o.calibration().withCache(cache, ROOM),
                new JobOptions.Analysis(null, false, 0.5, PruneMode.SEQUENTIAL, SparsityPattern.UNSTRUCTURED,
                        Allocation.uniform()), o.output());
    }

    /** The layer command's options: results into {@code out}, or only the picture into {@code pngDir}. */
    private static JobOptions layerOptions(Path model, Path modelCache, Path cache, String layer, Path out, String pngDir) {
        return new JobOptions("layer",
                new JobOptions.Model("demo", null, null, null, model, modelCache, TestEnvironment.offline()),
                new JobOptions.Calibration("demo", 8, 64, 0, ComputeDtype.FLOAT32, 2, 1).withCache(cache, ROOM),
                JobOptions.Analysis.dense(layer, true, 0.5),
                new JobOptions.Output(out, out == null ? tmp.resolve(pngDir) : null, false, PictureSize.DEFAULT));
    }

    private static Dataset<Row> table(SparkSession spark, String run, String table) {
        Dataset<Row> d = spark.read().parquet(tmp.resolve(run).resolve(table + ".parquet").toString()).drop("run_id");
        return table.equals("layers") ? d.drop("seconds") : d;
    }

    /** The entries in a cache directory (each has its description beside it, checked where it matters). */
    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> all = s.sorted().toList();
            List<Path> entries = all.stream().filter(p -> p.getFileName().toString().endsWith(".bin")).toList();
            assertEquals(entries.size() * 2, all.size(), "an entry and its description each, nothing else: " + all);
            return entries;
        }
    }

    private static Path only(Path dir) throws IOException {
        List<Path> f = files(dir);
        assertEquals(1, f.size(), f.toString());
        return f.get(0);
    }
}
