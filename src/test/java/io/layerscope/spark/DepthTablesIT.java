package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.TestEnvironment;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.model.DemoModel;
import io.layerscope.prune.Allocation;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.SparsityPattern;
import io.layerscope.results.ResultTables;
import io.layerscope.results.Table;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The depth tables of a sweep over the demo model with a planted super weight: written, readable by
 * {@code query}'s views, the candidate at its exact coordinates, and the same rows from 1, 2 and 3
 * calibration shards.
 */
class DepthTablesIT {
    static final List<String> DEPTH_TABLES = List.of("blocks", "block_distances", "super_weights", "outlier_features");
    static final int I = 11;
    static final int J = 200;
    static final float SUPER = -40f;

    @TempDir
    static Path tmp;
    static Path cache;
    static Path model;
    static SparkSession spark;

    @BeforeAll
    static void plantedDemoModel() throws IOException {
        cache = tmp.resolve("cache");
        Path demo = DemoModel.ensure(cache);
        model = tmp.resolve("planted");
        Files.createDirectories(model);
        try (Stream<Path> files = Files.list(demo)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("tokenizer")).toList()) {
                Files.copy(f, model.resolve(f.getFileName()));
            }
        }
        int hidden = 128;
        int intermediate = 344;
        DemoModel.weights().scaleRow("model.layers.0.mlp.up_proj.weight", J, hidden, 60f)
                .scaleRow("model.layers.0.mlp.gate_proj.weight", J, hidden, 20f)
                .plant("model.layers.0.mlp.down_proj.weight", I, J, intermediate, SUPER)
                .write(model);
        spark = SparkSessions.getOrCreate("test");
    }

    /** Sweeps already run, by their results directory's name: each test may ask for one another has run. */
    private static final Map<String, SweepJob.Outcome> SWEPT = new java.util.HashMap<>();

    static Path sweep(int shards) {
        return sweep("results-" + shards, shards, new JobOptions.Analysis(null, false, 0.5), new StringBuilder());
    }

    /** A sweep of the planted model into tmp/name (once per name), its standard error appended to {@code err}. */
    static synchronized Path sweep(String name, int shards, JobOptions.Analysis analysis, StringBuilder err) {
        SweepJob.Outcome done = SWEPT.get(name);
        if (done != null) {
            return done.written();
        }
        Path out = tmp.resolve(name);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SweepJob.Outcome outcome = new SweepJob(new JobOptions("sweep",
                new JobOptions.Model(model.toString(), null, null, null, model, cache, TestEnvironment.offline()),
                new JobOptions.Calibration("demo", 6, 32, 0, ComputeDtype.FLOAT32, shards, 1),
                analysis,
                new JobOptions.Output(out, null, false, null)), new PrintStream(bytes, true)).run();
        err.append(bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
        SWEPT.put(name, outcome);
        return out;
    }

    @Test
    void depthTablesAreTheSameFromOneTwoAndThreeShardsAndFindThePlantedSuperWeight() {
        Map<String, List<String>> one = rows(sweep(1));
        assertEquals(rows(sweep(2)), one);
        assertEquals(rows(sweep(3)), one);

        assertEquals(4, one.get("blocks").size());
        assertEquals(4 + 3 + 2 + 1, one.get("block_distances").size());
        List<Row> candidates = ResultsQuery.sql(spark, "SELECT block, weight_row, weight_column, weight, weight_rank_in_row,"
                + " pruned_wanda_row, pruned_magnitude_row FROM super_weights WHERE block = 0", views(tmp.resolve("results-1")))
                .collectAsList();
        assertEquals(1, candidates.size());
        Row c = candidates.get(0);
        assertEquals(I, c.getInt(1));
        assertEquals(J, c.getInt(2));
        assertEquals(SUPER, c.getFloat(3));
        assertEquals(1, c.getInt(4));
        assertEquals(false, c.get(5));
        assertEquals(false, c.get(6));
        Row b0 = ResultsQuery.sql(spark, "SELECT massive, massive_top_channel FROM blocks WHERE block = 0",
                views(tmp.resolve("results-1"))).collectAsList().get(0);
        assertEquals(true, b0.get(0));
        assertEquals(I, b0.getInt(1));
        // the demo model's planted outlier features feed the layers of every block
        assertTrue(one.get("outlier_features").size() > 0, one.toString());
    }

    /**
     * Each outlier feature's Wanda columns, recomputed from the weights and the activation_norms table:
     * per row a stable ascending sort of |W| * act_norm, the first floor(in / 2) pruned.
     */
    @Test
    void outlierFeaturesShareOfTheirColumnsWandaPrunesIsTheStableSorts() {
        Path dir = sweep(1);
        views(dir);
        io.layerscope.model.Checkpoint ckpt = io.layerscope.model.Checkpoint.open(model);
        List<Row> features = ResultsQuery.sql(spark, "SELECT tap, channel, wanda_pruned_share, wanda_pruned_layers"
                + " FROM outlier_features", views(dir)).collectAsList();
        assertTrue(features.size() > 0);
        Map<String, int[][]> counted = new java.util.HashMap<>();   // layer -> per row, per column: pruned 0/1
        for (Row f : features) {
            String tap = f.getString(0);
            int c = f.getInt(1);
            long pruned = 0;
            long weights = 0;
            List<String> layers = new ArrayList<>();
            for (io.layerscope.model.PrunableLayer l : ckpt.prunableLayers()) {
                if (!l.tap().name().equals(tap)) {
                    continue;
                }
                int[][] mask = counted.computeIfAbsent(l.name(), n -> wandaRowMask(ckpt, l));
                int inColumn = 0;
                for (int[] row : mask) {
                    inColumn += row[c];
                }
                pruned += inColumn;
                weights += mask.length;
                if (inColumn > 0) {
                    layers.add(l.name());
                }
            }
            assertEquals((double) pruned / weights, f.getDouble(2), 1e-15, tap + "#" + c);
            assertEquals(layers, f.getList(3), tap + "#" + c);
        }
        // the planted features' large activations spare their columns, below the sparsity of 0.5
        assertTrue(features.stream().anyMatch(f -> f.getDouble(2) < 0.25), features.toString());
    }

    /** Per row, 1 where a stable ascending sort of |W| * act_norm (the activation_norms table's) puts the column in the first half. */
    private static int[][] wandaRowMask(io.layerscope.model.Checkpoint ckpt, io.layerscope.model.PrunableLayer l) {
        List<Row> norms = ResultsQuery.sql(spark, "SELECT act_norm FROM activation_norms WHERE layer = '" + l.name()
                + "' ORDER BY feature", views(tmp.resolve("results-1"))).collectAsList();
        int in = l.inFeatures();
        int out = l.outFeatures();
        assertEquals(in, norms.size(), l.name());
        float[] w = ckpt.readFloats(l.weightTensor());
        int[][] mask = new int[out][in];
        for (int i = 0; i < out; i++) {
            int row = i;
            Integer[] order = new Integer[in];
            for (int j = 0; j < in; j++) {
                order[j] = j;
            }
            java.util.Arrays.sort(order, java.util.Comparator.comparingDouble(
                    j -> Math.abs(w[row * in + j]) * norms.get(j).getFloat(0)));
            for (int r = 0; r < in / 2; r++) {
                mask[i][order[r]] = 1;
            }
        }
        return mask;
    }

    @Test
    void withoutDepthTheLayersAreTheSameAndTheBlocksTableKeepsOnlyItsPruningColumns() throws IOException {
        Path with = sweep(1);
        StringBuilder err = new StringBuilder();
        Path without = sweep("no-depth", 1, new JobOptions.Analysis(null, false, 0.5).withDepth(false), err);
        assertTrue(err.toString().matches("(?s).*stage 1: 6 samples in 1 shards, blocks 0\\.\\.3, \\d+ taps, no depth"
                + " statistics \\(--no-depth\\)\n.*"), err.toString());

        // stage one fed no depth statistics
        assertTrue(SWEPT.get("results-1").stage1().depth() != null);
        assertEquals(null, SWEPT.get("no-depth").stage1().depth());
        for (String table : List.of("layers", "activation_norms", "calibration", "blocks")) {
            assertTrue(Files.isDirectory(without.resolve(table + ".parquet")), table);
        }
        for (String table : DEPTH_TABLES.subList(1, DEPTH_TABLES.size())) {
            assertFalse(Files.exists(without.resolve(table + ".parquet")), table);
        }
        assertEquals(rowsOf(with, "layers", "seconds"), rowsOf(without, "layers", "seconds"));
        assertEquals(rowsOf(with, "activation_norms"), rowsOf(without, "activation_norms"));

        List<String> pruning = List.of("block", "owl_outlier_ratio", "owl_ratio_m3", "owl_ratio_m5", "owl_ratio_m7",
                "sparsity_allocated", "sparsity_actual");
        List<Row> full = spark.read().parquet(with.resolve("blocks.parquet").toString()).orderBy("block").collectAsList();
        List<Row> bare = spark.read().parquet(without.resolve("blocks.parquet").toString()).orderBy("block").collectAsList();
        assertEquals(4, bare.size());
        for (int b = 0; b < 4; b++) {
            Row f = full.get(b);
            Row r = bare.get(b);
            assertEquals(List.of(f.schema().fieldNames()), List.of(r.schema().fieldNames()));
            for (String column : r.schema().fieldNames()) {
                if (pruning.contains(column)) {
                    assertEquals((Object) f.getAs(column), r.getAs(column), column + " of block " + b);
                } else if (!column.equals("run_id")) {
                    assertTrue(r.isNullAt(r.fieldIndex(column)), column + " of block " + b + ": " + r);
                }
            }
            assertEquals(0.5, (double) r.getAs("sparsity_allocated"));
            assertTrue((double) r.getAs("owl_ratio_m5") > 0, r.toString());
            assertTrue(f.getAs("block_influence") != null, f.toString());
        }

        String run = Files.readString(without.resolve("run.json"));
        assertTrue(run.contains("\"depth\":false") || run.contains("\"depth\" : false"), run);
        String report = Files.readString(without.resolve("index.html"));
        assertFalse(report.contains("block_influence") || report.contains("Block influence"), "a depth section");
        assertTrue(report.contains("left out (--no-depth)"), "the header does not say why");
        assertTrue(Files.readString(with.resolve("index.html")).contains("lock influence"), "the depth section");

        LayerscopeException missing = assertThrows(LayerscopeException.class,
                () -> ResultsQuery.sql(spark, "SELECT * FROM super_weights", views(without)));
        assertEquals("query failed: no table or view named `super_weights` (line 1, position 14). It is a depth table,"
                + " which a run with --no-depth leaves out.\nThe tables are: activation_norms, blocks, calibration, layers.",
                missing.getMessage());
    }

    @Test
    void withoutDepthSequentialModeStopsAtTheLastBlockItAnalyses() {
        // OWL allocates over every block, so stage one runs them all; the depth tables would have the
        // rounds go on to the last one
        JobOptions.Analysis block0 = new JobOptions.Analysis("layers\\.0\\.", false, 0.5, PruneMode.SEQUENTIAL,
                SparsityPattern.UNSTRUCTURED,
                new Allocation(Allocation.Kind.OWL, Allocation.DEFAULT_OWL_M, Allocation.DEFAULT_LAMBDA));
        StringBuilder withErr = new StringBuilder();
        StringBuilder withoutErr = new StringBuilder();
        Path with = sweep("sequential", 1, block0, withErr);
        Path without = sweep("sequential-no-depth", 1, block0.withDepth(false), withoutErr);

        // sequential mode's depth statistics come from its rounds, never from stage one
        assertEquals(null, SWEPT.get("sequential").stage1().depth());
        assertTrue(withErr.toString().contains("stage 2 (sequential): blocks 0..3 pruned in order, 7 layers analysed"),
                withErr.toString());
        assertTrue(withoutErr.toString().contains("stage 2 (sequential): blocks 0..0 pruned in order, 7 layers analysed"),
                withoutErr.toString());
        assertEquals(7, rowsOf(with, "layers", "seconds").size());
        assertEquals(rowsOf(with, "layers", "seconds"), rowsOf(without, "layers", "seconds"));
        assertTrue(Files.exists(with.resolve("super_weights.parquet")));
        assertFalse(Files.exists(without.resolve("super_weights.parquet")));
    }

    /** A table's rows as text in file order, without run_id and the {@code ignored} columns. */
    private static List<String> rowsOf(Path dir, String table, String... ignored) {
        List<String> rows = new ArrayList<>();
        spark.read().parquet(dir.resolve(table + ".parquet").toString()).drop("run_id").drop(ignored).collectAsList()
                .forEach(r -> rows.add(r.toString()));
        return rows;
    }

    private static List<String> views(Path dir) {
        ResultsQuery.Views views = ResultsQuery.views(spark, List.of(dir));
        views.names().forEach(views::register);
        return views.names();
    }

    /** Each depth table's rows as text, in file order. */
    private static Map<String, List<String>> rows(Path dir) {
        Map<String, List<String>> out = new java.util.LinkedHashMap<>();
        for (Table<?> t : ResultTables.ALL) {
            if (DEPTH_TABLES.contains(t.name())) {
                List<String> rows = new ArrayList<>();
                // every column but run_id, which names the run and so differs between them
                spark.read().parquet(dir.resolve(t.name() + ".parquet").toString()).drop("run_id").collectAsList()
                        .forEach(r -> rows.add(r.toString()));
                out.put(t.name(), rows);
            }
        }
        return out;
    }
}
