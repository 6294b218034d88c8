package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.LayerscopeException;
import io.layerscope.fixtures.TestEnvironment;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.llama.GramArrays;
import io.layerscope.llama.LlamaModel;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DemoModel;
import io.layerscope.prune.Allocation;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.SparsityPattern;
import io.layerscope.stats.ReferenceMasks;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.JavaSparkStatusTracker;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --gram on the demo model: the output error of each mask equals ||dW X||^2 / ||W X||^2 computed
 * from the layer's captured inputs; 1, 2 and 3 shards and 1 or 4 passes give the same columns.
 */
class GramSweepIT {
    static final String LAYERS = "model\\.layers\\.[01]\\..*|lm_head";
    static final String[] COLUMNS = {"recon_err_wanda", "recon_err_magnitude_row", "recon_err_magnitude_layer",
        "recon_err_wanda_2of4", "recon_err_ria", "recon_err_diag_wanda", "participation_ratio"};

    @TempDir
    static Path tmp;
    static Path cache;
    static Path model;
    static SparkSession spark;

    @BeforeAll
    static void demo() {
        cache = tmp.resolve("cache");
        model = DemoModel.ensure(cache);
        spark = SparkSessions.getOrCreate("test");
    }

    static JobOptions options(Path out, int shards, boolean gram, long memory, PruneMode mode) {
        return new JobOptions("sweep",
                new JobOptions.Model(model.toString(), null, null, null, model, cache, TestEnvironment.offline()),
                new JobOptions.Calibration("demo", 6, 32, 0, ComputeDtype.FLOAT32, shards, 1),
                new JobOptions.Analysis(LAYERS, false, 0.5, mode, SparsityPattern.UNSTRUCTURED, Allocation.uniform())
                        .withGram(gram, memory),
                new JobOptions.Output(out, null, false, null));
    }

    static Path sweep(String name, int shards, long memory) {
        Path out = tmp.resolve(name);
        new SweepJob(options(out, shards, true, memory, PruneMode.DENSE), quiet()).run();
        return out;
    }

    @Test
    void errorsEqualTheDirectComputationAndDoNotDependOnShardsOrPasses() throws IOException {
        Path one = sweep("one", 1, JobOptions.Analysis.DEFAULT_GRAM_MEMORY_BYTES);
        Map<String, double[]> expected = columns(one);
        assertEquals(15, expected.size());
        for (int shards : new int[] {2, 3}) {
            assertClose(expected, columns(sweep("shards-" + shards, shards, JobOptions.Analysis.DEFAULT_GRAM_MEMORY_BYTES)),
                    shards + " shards");
        }
        // 1.2 MB a task: taps of 128^2 and 344^2 doubles (0.13 and 0.95 MB) fall into 4 passes
        int tasks = Runtime.getRuntime().availableProcessors();
        int committed = KeptStates.committed();
        long holds = HeldValues.holds();
        long reused = GramArrays.reused();
        Path split = sweep("split", 2, tasks * 1_200_000L);
        assertClose(expected, columns(split), "4 passes");
        JsonNode gram = new ObjectMapper().readTree(split.resolve("run.json").toFile()).get("gram");
        assertEquals(tasks, gram.get("tasksPerExecutor").asInt());
        assertEquals(Integer.getInteger("ai.djl.pytorch.num_threads", 1), gram.get("libtorchThreadsPerTask").asInt());
        assertEquals(4, gram.get("passes").asInt());
        // passes 3 and 4 start at block 1 from what pass 2 and 3 kept (passes 1 and 2 start at block 0)
        assertEquals(8, gram.get("passTasks").asInt());
        assertEquals(4, gram.get("resumedTasks").asInt());
        // pass 2's two tasks wrote the input of block 1; pass 3, which starts there too, handed it on as it was
        assertEquals(committed + 2, KeptStates.committed(), "states written");
        assertEquals(0, KeptStates.kept(), "nothing kept after the passes");
        // local mode: each task's matrices reach the driver, and each pass's the layer tasks, by reference
        assertEquals(holds + 8 + 4, HeldValues.holds(), "values held");
        assertEquals(0, HeldValues.held(""), "nothing held after the sweep");
        // and each pass's sums reuse the arrays of the pass before where lengths match (same errors)
        assertTrue(GramArrays.reused() > reused, "arrays reused");
        assertEquals(0, GramArrays.waiting(), "none kept after the passes");
        assertEquals("[[\"0/ATTN_IN\",\"0/ATTN_OUT\",\"0/MLP_IN\"],[\"0/MLP_ACT\",\"1/ATTN_IN\"],"
                + "[\"1/ATTN_OUT\",\"1/MLP_IN\"],[\"1/MLP_ACT\",\"final/FINAL_NORM\"]]", gram.get("taps").toString());
        assertTrue(gram.get("diagonalMaxRelativeDifference").asDouble() < 1e-5, gram.toString());
        assertEquals(List.of(), RunSchema.errors(Files.readString(split.resolve("run.json"))));
        JsonNode whole = new ObjectMapper().readTree(one.resolve("run.json").toFile()).get("gram");
        assertEquals(1, whole.get("passes").asInt());

        for (String layer : List.of("model.layers.1.mlp.down_proj", "model.layers.0.self_attn.o_proj", "lm_head")) {
            assertDirect(one, layer, expected.get(layer));
        }
    }

    /**
     * Local mode with room for one 344 x 344 matrix (946,688 bytes) but not one per task slot: the
     * passes run one task at a time (one partition), say so, and give the errors a direct
     * computation gives.
     */
    @Test
    void inLocalModeABudgetForOneMatrixRunsOneTaskAtATime() throws IOException {
        int slots = spark.sparkContext().defaultParallelism();
        assumeTrue(slots >= 2, "needs two task slots");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Path out = tmp.resolve("fewer");
        JavaSparkStatusTracker status = JavaSparkContext.fromSparkContext(spark.sparkContext()).statusTracker();
        Set<Integer> before = jobs(status);
        new SweepJob(options(out, slots, true, 1_200_000L, PruneMode.DENSE),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run();
        String said = err.toString(StandardCharsets.UTF_8);
        // every Gram pass's stage ran as one task (the status store follows the listener bus: wait for it)
        List<Integer> gramTasks = List.of();
        for (long until = System.nanoTime() + 10_000_000_000L; gramTasks.size() < 4 && System.nanoTime() < until; ) {
            gramTasks = gramStageTasks(status, before);
            Thread.onSpinWait();
        }
        assertEquals(List.of(1, 1, 1, 1), gramTasks);
        assertTrue(said.contains("--gram: the Gram passes run 1 task at a time, not " + slots + ": one input of"
                + " model.layers.0.mlp.down_proj needs a Gram matrix of 925 KiB per task, and a pass may use 1.14 MiB"
                + " (--gram-memory); --gram-memory " + (946_688L * slots + (1 << 20) - 1 >> 20) + "m runs " + slots
                + " at a time\n"), said);
        JsonNode gram = new ObjectMapper().readTree(out.resolve("run.json").toFile()).get("gram");
        assertEquals(1, gram.get("tasksPerExecutor").asInt());
        // the lone task's threads: every slot's core, or the test JVM's own count where that is more
        assertEquals(Math.max(slots, Integer.getInteger("ai.djl.pytorch.num_threads", 1)),
                gram.get("libtorchThreadsPerTask").asInt());
        assertEquals(4, gram.get("passes").asInt());
        assertEquals(4, gram.get("passTasks").asInt());
        assertEquals(2, gram.get("resumedTasks").asInt());
        Map<String, double[]> columns = columns(out);
        assertDirect(out, "model.layers.1.mlp.down_proj", columns.get("model.layers.1.mlp.down_proj"));
    }

    @Test
    void gramWithSequentialModeIsRefusedBeforeAnythingIsWritten() {
        Path out = tmp.resolve("sequential");
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> new SweepJob(
                options(out, 1, true, JobOptions.Analysis.DEFAULT_GRAM_MEMORY_BYTES, PruneMode.SEQUENTIAL), quiet()).run());
        assertEquals("--gram measures the masks on the dense model's inputs (--mode dense); with --mode sequential each"
                + " block's inputs come from the pruned blocks before it, and their Gram matrices are not accumulated:"
                + " drop --gram or use --mode dense", e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void withoutGramTheColumnsAreNull() {
        Path out = tmp.resolve("plain");
        new SweepJob(options(out, 1, false, JobOptions.Analysis.DEFAULT_GRAM_MEMORY_BYTES, PruneMode.DENSE), quiet()).run();
        // every layer's row: the Gram columns null, RIA's agreement (no Gram matrix needed) there
        Row r = spark.read().parquet(out.resolve("layers.parquet").toString()).selectExpr("count(*)",
                "count(recon_err_wanda) + count(participation_ratio) + count(dead_features)",
                "count(agree_ria_wanda)", "min(agree_ria_wanda)").first();
        assertTrue(r.getLong(0) > 1, r.toString());
        assertEquals(0L, r.getLong(1), r.toString());
        assertEquals(r.getLong(0), r.getLong(2), r.toString());
        assertTrue(r.getDouble(3) > 0.5, r.toString());
    }

    /**
     * One layer's errors from its inputs X captured position by position (the same windows, from
     * the calibration table) and masks from full sorts of its weight: no Gram matrix involved.
     */
    private static void assertDirect(Path results, String layer, double[] actual) {
        Checkpoint ckpt = Checkpoint.open(model);
        var l = ckpt.prunableLayers().stream().filter(p -> p.name().equals(layer)).findFirst().orElseThrow();
        int out = l.outFeatures();
        int in = l.inFeatures();
        float[] w = ckpt.readFloats(l.weightTensor());
        float[] act = new float[in];
        spark.read().parquet(results.resolve("activation_norms.parquet").toString())
                .where("layer = '" + layer + "'").collectAsList()
                .forEach(r -> act[r.getInt(r.fieldIndex("feature"))] = r.getFloat(r.fieldIndex("act_norm")));
        List<Row> windows = spark.read().parquet(results.resolve("calibration.parquet").toString()).orderBy("sample")
                .collectAsList();
        boolean[][] masks = ReferenceMasks.of(w, out, in, act, 0.5);
        double[] removed = new double[masks.length];
        double diagonal = 0;
        double whole = 0;
        try (LlamaModel m = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
            for (Row r : windows) {
                List<Integer> ids = r.getList(r.fieldIndex("tokens"));
                int[] tokens = ids.stream().mapToInt(Integer::intValue).toArray();
                float[] x = m.positionTaps(tokens).get(l.tapKey());
                for (int t = 0; t < tokens.length; t++) {
                    for (int i = 0; i < out; i++) {
                        double y = 0;
                        double[] dy = new double[masks.length];
                        for (int j = 0; j < in; j++) {
                            double v = (double) w[i * in + j] * x[t * in + j];
                            y += v;
                            for (int k = 0; k < masks.length; k++) {
                                dy[k] += masks[k][i * in + j] ? v : 0;
                            }
                            diagonal += masks[0][i * in + j] ? v * v : 0;
                        }
                        whole += y * y;
                        for (int k = 0; k < masks.length; k++) {
                            removed[k] += dy[k] * dy[k];
                        }
                    }
                }
            }
        }
        for (int k = 0; k < masks.length; k++) {
            assertEquals(removed[k] / whole, actual[k], 1e-4 * removed[k] / whole, layer + " " + COLUMNS[k]);
        }
        assertEquals(diagonal / whole, actual[5], 1e-4 * diagonal / whole, layer + " recon_err_diag_wanda");
    }

    private static Set<Integer> jobs(JavaSparkStatusTracker status) {
        Set<Integer> ids = new HashSet<>();
        for (int id : status.getJobIdsForGroup(null)) {
            ids.add(id);
        }
        return ids;
    }

    /** The task count of each Gram pass's stage (named after GramStage's call site) of the jobs not in {@code before}. */
    private static List<Integer> gramStageTasks(JavaSparkStatusTracker status, Set<Integer> before) {
        List<Integer> tasks = new ArrayList<>();
        for (int id : jobs(status).stream().sorted().toList()) {
            SparkJobInfo job = status.getJobInfo(id);
            if (before.contains(id) || job == null) {
                continue;
            }
            for (int stage : job.stageIds()) {
                SparkStageInfo info = status.getStageInfo(stage);
                if (info != null && info.name().contains("GramStage")) {
                    tasks.add(info.numTasks());
                }
            }
        }
        return tasks;
    }

    /** Per layer, the Gram columns. */
    private static Map<String, double[]> columns(Path dir) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Row r : spark.read().parquet(dir.resolve("layers.parquet").toString()).collectAsList()) {
            double[] v = new double[COLUMNS.length];
            for (int c = 0; c < COLUMNS.length; c++) {
                v[c] = r.getDouble(r.fieldIndex(COLUMNS[c]));
            }
            out.put(r.getString(r.fieldIndex("layer")), v);
        }
        return out;
    }

    private static void assertClose(Map<String, double[]> expected, Map<String, double[]> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what);
        expected.forEach((layer, e) -> {
            double[] a = actual.get(layer);
            for (int c = 0; c < e.length; c++) {
                assertEquals(e[c], a[c], 1e-12 * Math.abs(e[c]), what + ": " + layer + " " + COLUMNS[c]);
            }
        });
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }
}
