package io.layerscope.spark;

import io.layerscope.fixtures.DuckDb;
import io.layerscope.fixtures.TestEnvironment;
import io.layerscope.results.LayerResult;
import io.layerscope.results.LayersTable;
import io.layerscope.results.ParquetTableTest;
import io.layerscope.results.ResultTables;
import io.layerscope.results.Table;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.llama.ComputeDtype;
import io.layerscope.llama.TapSums;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DemoModel;
import io.layerscope.model.PrunableLayer;
import io.layerscope.plot.PictureSize;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sweep and the single-layer job on the demo model, in Spark local mode, checked against plain
 * Java computations over the same weights and scaler_row.
 */
class SweepJobIT {
    static final int NSAMPLES = 8;
    static final int SEQLEN = 64;
    static final String LAYER = "model.layers.1.mlp.down_proj";

    @TempDir
    static Path tmp;
    static Path cache;
    static Path modelDir;
    static Path sweepDir;
    static SweepJob.Outcome sweep;
    static SparkSession spark;
    static boolean modelHeldAfterTheSweep;

    @BeforeAll
    static void sweepTheDemoModel() {
        cache = tmp.resolve("cache");
        modelDir = DemoModel.ensure(cache);
        sweepDir = tmp.resolve("results").resolve("demo");
        sweep = new SweepJob(options("sweep", sweepDir, null, false, 2), quiet()).run();
        modelHeldAfterTheSweep = ExecutorResources.holdsModels();
        spark = SparkSessions.getOrCreate("test");
    }

    static JobOptions options(String command, Path out, String layers, boolean exact, int shards) {
        return options(command, out, layers, exact, shards, null);
    }

    /** With pictures of {@code pngSize}, or none when it is null. */
    static JobOptions options(String command, Path out, String layers, boolean exact, int shards, PictureSize pngSize) {
        return new JobOptions(command,
                new JobOptions.Model("demo", null, null, null, modelDir, cache, TestEnvironment.offline()),
                new JobOptions.Calibration("demo", NSAMPLES, SEQLEN, 0, ComputeDtype.FLOAT32, shards, 1),
                JobOptions.Analysis.dense(layers, exact, 0.5),
                new JobOptions.Output(out, out == null ? tmp.resolve("png") : null, false, pngSize));
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    /** Stage two needs no forward: the executor (this JVM in local mode) closed its model for the memory. */
    @Test
    void theExecutorClosedItsModelForStageTwo() {
        assertFalse(modelHeldAfterTheSweep);
    }

    @Test
    void theStartUpCoversSamplingAndSparksStartAndTheModelWarmed() {
        Map<String, Double> t = sweep.timings();
        assertTrue(t.containsKey("startup") && t.containsKey("spark_start") && t.containsKey("sampling"), t.toString());
        // each part is timed within the start-up (rounding to the ms keeps that order); the record holds durations
        // only, not when each began, so their overlap is not checked here (a bound on the sum would be a speed limit)
        assertTrue(t.get("sampling") <= t.get("startup") && t.get("spark_start") <= t.get("startup"), t.toString());
        // local mode: the preload in this JVM is the warm-up, timed from the start
        assertTrue(t.containsKey("executor_warmup"), "the warm-up ended before stage one did: " + t);
    }

    @Test
    void theDriverWritesEachTableAsSparksOwnParquetWriterWould() throws Exception {
        sameAsSparksWriter(ResultTables.LAYERS, sweep.layers().stream().map(r -> new LayersTable.Source(r, null)).toList());
        List<ResultTables.Feature> features = new ArrayList<>();
        sweep.layers().forEach(r -> ResultTables.features(r).forEach(features::add));
        sameAsSparksWriter(ResultTables.ACTIVATION_NORMS, features);
        sameAsSparksWriter(ResultTables.CALIBRATION, sweep.samples());
    }

    private static <T> void sameAsSparksWriter(Table<T> table, List<T> sources) throws Exception {
        ParquetTableTest.assertSameAsSparksWriter(spark, tmp.resolve("by-spark-and-driver").resolve(table.name()),
                table.schema(), sources.stream().map(s -> table.row(s, "run")).toList());
    }

    @Test
    void writesEveryTableWithTheContractColumns() {
        List<String> columns = Arrays.asList(spark.read().parquet(sweepDir.resolve("layers.parquet").toString()).columns());
        List<String> contract = new ArrayList<>(List.of("layer", "block", "kind", "layer_group", "out_features", "in_features",
                "nsamples", "ntokens", "agree_wanda_magnitude_row", "agree_wanda_magnitude_layer",
                "agree_wanda_magnitude_2of4", "outlier_ratio_m3", "outlier_ratio_m5", "outlier_ratio_m7", "top_act_features"));
        for (String p : new String[] {"weight_abs_", "act_norm_", "wanda_"}) {
            for (String s : new String[] {"mean", "std", "min", "max", "median", "p01", "p99", "hist_edges", "hist_counts"}) {
                contract.add(p + s);
            }
        }
        assertTrue(columns.containsAll(contract), "missing: " + contract.stream().filter(c -> !columns.contains(c)).toList());
        assertEquals(29, spark.read().parquet(sweepDir.resolve("layers.parquet").toString()).count());

        Checkpoint ckpt = Checkpoint.open(modelDir);
        long features = ckpt.prunableLayers().stream().mapToLong(PrunableLayer::inFeatures).sum();
        assertEquals(List.of("layer", "feature", "scaler_row", "act_norm", "scaler_row_dense", "run_id"),
                Arrays.asList(spark.read().parquet(sweepDir.resolve("activation_norms.parquet").toString()).columns()));
        assertEquals(features, spark.read().parquet(sweepDir.resolve("activation_norms.parquet").toString()).count());

        List<Row> calib = spark.read().parquet(sweepDir.resolve("calibration.parquet").toString()).orderBy("sample").collectAsList();
        assertEquals(NSAMPLES, calib.size());
        for (int i = 0; i < NSAMPLES; i++) {
            assertEquals(i, calib.get(i).getInt(calib.get(i).fieldIndex("sample")));
            assertEquals(SEQLEN, calib.get(i).getList(calib.get(i).fieldIndex("tokens")).size());
            assertArrayEquals(sweep.samples().get(i).tokens(), ints(calib.get(i).getList(calib.get(i).fieldIndex("tokens"))));
        }
        RunRecord run = RunRecord.read(sweepDir);
        assertEquals(NSAMPLES, run.calibration().windows().size());
        assertEquals(2, run.calibration().shards(), "--shards 2: what groups the float sums");
        assertEquals(sweep.samples().get(3).doc(), run.calibration().windows().get(3).doc());
        assertEquals(4, run.forwardBlocks());
        assertEquals(64, run.model().files().get(0).sha256().length());
    }

    @Test
    void runJsonFollowsTheSchemaInDocs() throws Exception {
        assertEquals(List.of(), RunSchema.errors(sweepDir.resolve(RunRecord.FILE)));
        RunRecord run = RunRecord.read(sweepDir);
        assertEquals(1, run.schemaVersion());
        assertEquals(run.runId(), java.util.UUID.fromString(run.runId()).toString());
    }

    /**
     * DuckDB reads every table: each column, unquoted, with the type a hand-written mapping of the
     * Spark type gives; the codec is zstd (the setting's default); the footer holds the provenance;
     * every row has the run's id; and a layer's numbers are the sweep's.
     */
    @Test
    void duckDbReadsEveryTableWithItsTypesCodecAndProvenance() {
        String runId = RunRecord.read(sweepDir).runId();
        for (Table<?> table : ResultTables.ALL) {
            String files = "'" + sweepDir.resolve(table.name() + ".parquet") + "/*.parquet'";
            List<String> names = new ArrayList<>();
            List<String> types = new ArrayList<>();
            for (org.apache.spark.sql.types.StructField f : table.schema().fields()) {
                names.add(f.name());
                types.add(f.name() + " " + duckDbType(f.dataType()));
            }
            List<com.fasterxml.jackson.databind.JsonNode> r = DuckDb.query(
                    "DESCRIBE SELECT * FROM read_parquet(" + files + ")",
                    "SELECT DISTINCT compression FROM parquet_metadata(" + files + ")",
                    "SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(" + files + ")"
                            + " WHERE decode(key) LIKE 'layerscope.%' ORDER BY k",
                    "SELECT " + String.join(", ", names) + " FROM read_parquet(" + files + ") LIMIT 1",
                    "SELECT count(*) AS n, count(DISTINCT run_id) AS runs, min(run_id) AS run FROM read_parquet(" + files + ")");
            List<String> described = new ArrayList<>();
            r.get(0).forEach(c -> described.add(c.get("column_name").asText() + " " + c.get("column_type").asText()));
            assertEquals(types, described, table.name());
            // a table with no rows (super_weights when no block spikes) has no row group to name a codec
            boolean empty = r.get(4).get(0).get("n").asLong() == 0;
            assertEquals(empty ? "[]" : "[{\"compression\":\"ZSTD\"}]", r.get(1).toString(), table.name());
            Map<String, String> footer = new HashMap<>();
            r.get(2).forEach(kv -> footer.put(kv.get("k").asText(), kv.get("v").asText()));
            assertEquals(Map.of("layerscope.tool", "layerscope", "layerscope.version", RunRecord.read(sweepDir).toolVersion(),
                    "layerscope.run_id", runId, "layerscope.model", "demo", "layerscope.mode", "dense"), footer, table.name());
            if (!empty) {
                assertEquals(names.size(), r.get(3).get(0).size(), table.name());
                assertEquals(1, r.get(4).get(0).get("runs").asInt(), table.name());
                assertEquals(runId, r.get(4).get(0).get("run").asText(), table.name());
            }
        }
        LayerResult down = sweep.layers().stream().filter(l -> l.layer().name().equals(LAYER)).findFirst().orElseThrow();
        com.fasterxml.jackson.databind.JsonNode row = DuckDb.query("SELECT layer_group, in_features, wanda_mean FROM read_parquet('"
                + sweepDir.resolve("layers.parquet") + "/*.parquet') WHERE layer = '" + LAYER + "'").get(0).get(0);
        assertEquals("mlp", row.get("layer_group").asText());
        assertEquals(down.layer().inFeatures(), row.get("in_features").asInt());
        assertEquals(down.stats().wanda().summary().mean(), row.get("wanda_mean").asDouble());
    }

    /** DuckDB's name for a Spark type, as DuckDB's documentation maps Parquet types. */
    private static String duckDbType(org.apache.spark.sql.types.DataType t) {
        if (t instanceof org.apache.spark.sql.types.ArrayType a) {
            return duckDbType(a.elementType()) + "[]";
        }
        return Map.of("int", "INTEGER", "bigint", "BIGINT", "float", "FLOAT", "double", "DOUBLE", "string", "VARCHAR",
                "boolean", "BOOLEAN")
                .get(t.simpleString());
    }

    @Test
    void layerValuesEqualPlainJavaOverTheSameWeightsAndScalerRow() {
        Checkpoint ckpt = Checkpoint.open(modelDir);
        PrunableLayer layer = ckpt.layer(LAYER);
        int out = layer.outFeatures();
        int in = layer.inFeatures();
        float[] w = ckpt.readFloats(layer.weightTensor());
        float[] scaler = new float[in];
        for (Row r : spark.read().parquet(sweepDir.resolve("activation_norms.parquet").toString())
                .where("layer = '" + LAYER + "'").collectAsList()) {
            scaler[r.getInt(1)] = r.getFloat(2);
        }
        Row row = spark.read().parquet(sweepDir.resolve("layers.parquet").toString()).where("layer = '" + LAYER + "'").first();

        double sumAbs = 0;
        double sumWanda = 0;
        double maxWanda = 0;
        double[] wanda = new double[w.length];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                double a = Math.abs(w[i * in + j]);
                double m = (float) (Math.abs(w[i * in + j]) * (float) Math.sqrt(scaler[j]));
                wanda[i * in + j] = m;
                sumAbs += a;
                sumWanda += m;
                maxWanda = Math.max(maxWanda, m);
            }
        }
        double meanAbs = sumAbs / w.length;
        double ss = 0;
        for (float v : w) {
            ss += (Math.abs(v) - meanAbs) * (Math.abs(v) - meanAbs);
        }
        assertClose(meanAbs, row.getDouble(row.fieldIndex("weight_abs_mean")), 1e-9);
        assertClose(Math.sqrt(ss / (w.length - 1)), row.getDouble(row.fieldIndex("weight_abs_std")), 1e-9);
        assertClose(sumWanda / w.length, row.getDouble(row.fieldIndex("wanda_mean")), 1e-6);
        assertClose(maxWanda, row.getDouble(row.fieldIndex("wanda_max")), 1e-6);

        // masks at 50%: per-row stable ascending sort, lower column first among ties
        assertClose(agreeRow(w, scaler, out, in, in / 2), row.getDouble(row.fieldIndex("agree_wanda_magnitude_row")), 1e-12);

        double mean = sumWanda / w.length;
        long above5 = Arrays.stream(wanda).filter(v -> v > 5 * mean).count();
        assertClose((double) above5 / w.length, row.getDouble(row.fieldIndex("outlier_ratio_m5")), 1e-12);

        // the 16 largest act_norm = sqrt(scaler_row) in float32, largest first, a tie by lower index: all of them,
        // ranked by the float32 norm, whose rounding can tie features that scaler_row tells apart
        float[] norm = new float[in];
        Integer[] order = new Integer[in];
        for (int j = 0; j < in; j++) {
            norm[j] = (float) Math.sqrt(scaler[j]);
            order[j] = j;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer j) -> -norm[j]).thenComparingInt(j -> j));
        int[] top = new int[16];
        for (int t = 0; t < top.length; t++) {
            top[t] = order[t];
        }
        assertArrayEquals(top, ints(row.getList(row.fieldIndex("top_act_features"))));
        assertEquals(NSAMPLES, row.getLong(row.fieldIndex("nsamples")));
        assertEquals((long) NSAMPLES * SEQLEN, row.getLong(row.fieldIndex("ntokens")));
    }

    /** Share of entries where the per-row Wanda and magnitude masks pruning k of each row agree, by sorting. */
    private static double agreeRow(float[] w, float[] scaler, int out, int in, int k) {
        double[] wanda = new double[w.length];
        double[] abs = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            abs[i] = Math.abs(w[i]);
            wanda[i] = (float) (Math.abs(w[i]) * (float) Math.sqrt(scaler[i % in]));
        }
        long agree = 0;
        for (int i = 0; i < out; i++) {
            boolean[] byWanda = rowMask(wanda, i, in, k);
            boolean[] byMagnitude = rowMask(abs, i, in, k);
            for (int j = 0; j < in; j++) {
                agree += byWanda[j] == byMagnitude[j] ? 1 : 0;
            }
        }
        return (double) agree / w.length;
    }

    @Test
    void anotherSparsityReachesEveryMaskAndRunJson() {
        Path dir = tmp.resolve("results").resolve("sparsity-0.3");
        JobOptions base = options("layer", dir, LAYER, true, 2);
        new SweepJob(new JobOptions(base.command(), base.model(), base.calibration(),
                JobOptions.Analysis.dense(LAYER, true, 0.3), base.output()), quiet()).run();
        Checkpoint ckpt = Checkpoint.open(modelDir);
        PrunableLayer layer = ckpt.layer(LAYER);
        int in = layer.inFeatures();
        float[] scaler = new float[in];
        for (Row r : spark.read().parquet(dir.resolve("activation_norms.parquet").toString()).collectAsList()) {
            scaler[r.getInt(1)] = r.getFloat(2);
        }
        Row row = spark.read().parquet(dir.resolve("layers.parquet").toString()).first();
        assertEquals(0.3, row.getDouble(row.fieldIndex("sparsity")));
        assertClose(agreeRow(ckpt.readFloats(layer.weightTensor()), scaler, layer.outFeatures(), in, (int) (in * 0.3)),
                row.getDouble(row.fieldIndex("agree_wanda_magnitude_row")), 1e-12);
        assertEquals(0.3, RunRecord.read(dir).options().analysis().sparsity());
    }

    private static boolean[] rowMask(double[] values, int row, int in, int k) {
        Integer[] idx = new Integer[in];
        for (int j = 0; j < in; j++) {
            idx[j] = j;
        }
        Arrays.sort(idx, Comparator.comparingDouble((Integer j) -> values[row * in + j]).thenComparingInt(j -> j));
        boolean[] pruned = new boolean[in];
        for (int t = 0; t < k; t++) {
            pruned[idx[t]] = true;
        }
        return pruned;
    }

    @Test
    void scalerRowIsTheSameForOneTwoAndThreeShards() {
        Checkpoint ckpt = Checkpoint.open(modelDir);
        List<String> taps = ckpt.prunableLayers().stream().map(PrunableLayer::tapKey).distinct().toList();
        ModelSpec spec = new ModelSpec(modelDir.toString(), ComputeDtype.FLOAT32, 3, taps, 1);
        List<int[]> windows = sweep.samples().stream().map(s -> s.tokens()).toList();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        TapSums one = CalibrationStage.run(jsc, spec, windows, 1, quiet()).sums();
        for (int shards : new int[] {2, 3}) {
            TapSums many = CalibrationStage.run(jsc, spec, windows, shards, quiet()).sums();
            assertEquals(one.nsamples(), many.nsamples());
            assertEquals(one.ntokens(), many.ntokens());
            for (String key : taps) {
                float[] a = one.scalerRow(key);
                float[] b = many.scalerRow(key);
                for (int j = 0; j < a.length; j++) {
                    assertClose(a[j], b[j], 1e-6);
                }
            }
        }
        // and the sweep's merged scaler_row (2 shards) agrees with them
        Map<Integer, Float> sweepRow = new HashMap<>();
        for (Row r : spark.read().parquet(sweepDir.resolve("activation_norms.parquet").toString())
                .where("layer = '" + LAYER + "'").collectAsList()) {
            sweepRow.put(r.getInt(1), r.getFloat(2));
        }
        float[] expected = one.scalerRow(Checkpoint.open(modelDir).layer(LAYER).tapKey());
        for (int j = 0; j < expected.length; j++) {
            assertClose(expected[j], sweepRow.get(j), 1e-6);
        }
    }

    @Test
    void singleLayerJobRunsOnlyItsBlockAndEqualsTheSweepRow() throws Exception {
        String name = "model.layers.0.self_attn.q_proj";
        Path out = tmp.resolve("results").resolve("one-layer");
        SweepJob.Outcome one = new SweepJob(options("layer", out, name, true, 2), quiet()).run();
        assertEquals(1, one.stage1().blocksLoaded());
        assertEquals(1, RunRecord.read(out).forwardBlocks());
        assertEquals(List.of(name), RunRecord.read(out).layers());

        Row mine = spark.read().parquet(out.resolve("layers.parquet").toString()).first();
        Row theirs = spark.read().parquet(sweepDir.resolve("layers.parquet").toString()).where("layer = '" + name + "'").first();
        for (String c : new String[] {"weight_abs_mean", "act_norm_mean", "act_norm_p99", "wanda_mean", "wanda_median",
            "agree_wanda_magnitude_row", "agree_wanda_magnitude_layer", "agree_wanda_magnitude_2of4", "outlier_ratio_m3"}) {
            assertClose(theirs.getDouble(theirs.fieldIndex(c)), mine.getDouble(mine.fieldIndex(c)), 1e-6);
        }
        assertEquals(theirs.getList(theirs.fieldIndex("top_act_features")), mine.getList(mine.fieldIndex("top_act_features")));
    }

    @Test
    void aSingleLayerPictureWithoutOutNeverReplacesAFileSilently() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("png-here"));
        String name = "model.layers.0.mlp.gate_proj";
        Path png = dir.resolve(LayerResult.pngName(name));
        Files.writeString(png, "someone's file");
        JobOptions base = options("layer", null, name, true, 2, new PictureSize(800, 600));
        JobOptions here = new JobOptions(base.command(), base.model(), base.calibration(), base.analysis(),
                new JobOptions.Output(null, dir, false, base.output().pngSize()));
        var e = assertThrows(io.layerscope.LayerscopeException.class, () -> new SweepJob(here, quiet()).run());
        assertEquals(png + " already exists; pass --overwrite to replace it, or --out DIR to write a results directory"
                + " instead", e.getMessage());
        assertEquals("someone's file", Files.readString(png));
        new SweepJob(new JobOptions(base.command(), base.model(), base.calibration(), base.analysis(),
                new JobOptions.Output(null, dir, true, base.output().pngSize())), quiet()).run();
        assertEquals(800, javax.imageio.ImageIO.read(png.toFile()).getWidth());
        // the picture gets a new file's permissions, not a temporary file's owner-only ones
        Path fresh = Files.writeString(dir.resolve("fresh"), "x");
        assertEquals(Files.getPosixFilePermissions(fresh), Files.getPosixFilePermissions(png));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of("fresh", png.getFileName().toString()), left.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void theSingleLayerPictureHasTheSizeAsked() throws Exception {
        String name = "model.layers.1.mlp.up_proj";
        Path out = tmp.resolve("results").resolve("small-picture");
        new SweepJob(options("layer", out, name, true, 2, new PictureSize(800, 600)), quiet()).run();
        java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(out.resolve("png").resolve(
                io.layerscope.results.LayerResult.pngName(name)).toFile());
        assertEquals(800, png.getWidth());
        assertEquals(600, png.getHeight());
        assertEquals(new PictureSize(800, 600), RunRecord.read(out).options().output().pngSize());
    }

    /**
     * Each picture goes into the results as its layer's result reaches the driver, which keeps none
     * of the bytes until the end (a large model's pictures are hundreds of MB).
     */
    @Test
    void eachPictureIsWrittenOutAsItsResultArrives() throws Exception {
        Path out = tmp.resolve("results").resolve("pictures");
        SweepJob.Outcome run = new SweepJob(options("sweep", out, "mlp", false, 2, new PictureSize(800, 600)), quiet()).run();
        assertEquals(12, run.layers().size());
        for (LayerResult r : run.layers()) {
            assertTrue(r.picture() != null && r.picture().written(), r.layer().name() + " kept its picture's bytes");
            String png = ResultsWriter.PNG_DIR + "/" + r.pngName();
            assertEquals(800, javax.imageio.ImageIO.read(out.resolve(png).toFile()).getWidth());
            assertEquals(io.layerscope.report.SweepReport.THUMBNAIL_WIDTH,
                    javax.imageio.ImageIO.read(out.resolve(io.layerscope.report.SweepReport.thumbnailPath(png)).toFile()).getWidth());
        }
        Row row = spark.read().parquet(out.resolve("layers.parquet").toString()).where("layer = 'model.layers.1.mlp.down_proj'").first();
        assertEquals("png/layer_analysis_model.layers.1.mlp.down_proj.png", row.getString(row.fieldIndex("png")));
    }

    @Test
    void aRunThatFailsAfterStageOneLeavesNoResultsDirectory() throws Exception {
        Path out = tmp.resolve("failing").resolve("demo");
        spark.sparkContext().setLocalProperty(SweepHook.CONF, FaultInjection.class.getName());
        spark.sparkContext().setLocalProperty(FaultInjection.CONF, "after-calibration");
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> new SweepJob(options("sweep", out, "mlp", false, 2), quiet()).run());
            assertEquals("injected fault: after-calibration (test only)", e.getMessage());
        } finally {
            spark.sparkContext().setLocalProperty(SweepHook.CONF, null);
            spark.sparkContext().setLocalProperty(FaultInjection.CONF, null);
        }
        assertFalse(Files.exists(out));
        // nothing left: no staging directory, no lock file, and not the directory made for DIR either
        assertFalse(Files.exists(out.getParent()), "left behind: " + out.getParent());
    }

    @Test
    void anExistingResultsDirectoryIsRefusedUnlessOverwrite() {
        var e = assertThrows(io.layerscope.LayerscopeException.class,
                () -> new SweepJob(options("sweep", sweepDir, "lm_head", false, 1), quiet()).run());
        assertEquals("results directory " + sweepDir + " already exists; choose another --out or pass --overwrite to replace it",
                e.getMessage());
    }

    static int[] ints(List<Object> list) {
        return list.stream().mapToInt(o -> (Integer) o).toArray();
    }

    static void assertClose(double expected, double actual, double relative) {
        double tol = relative * Math.max(Math.abs(expected), 1e-12);
        assertTrue(Math.abs(expected - actual) <= tol, "expected " + expected + " but was " + actual);
    }
}
