package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.fixtures.TestEnvironment;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.model.DemoModel;
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

    static Path sweep(int shards) {
        Path out = tmp.resolve("results-" + shards);
        new SweepJob(new JobOptions("sweep",
                new JobOptions.Model(model.toString(), null, null, null, model, cache, TestEnvironment.offline()),
                new JobOptions.Calibration("demo", 6, 32, 0, ComputeDtype.FLOAT32, shards, 1),
                new JobOptions.Analysis(null, false, 0.5),
                new JobOptions.Output(out, null, false, null)), new PrintStream(new ByteArrayOutputStream())).run();
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
