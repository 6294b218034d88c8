package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.calibration.CalibrationSample;
import io.layerscope.fixtures.TestEnvironment;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DemoModel;
import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.SafetensorsFile;
import io.layerscope.model.TensorInfo;
import io.layerscope.prune.Allocation;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.PrunedCheckpointWriter;
import io.layerscope.prune.SparsityPattern;
import io.layerscope.report.HtmlReport;
import io.layerscope.results.LayerResult;
import io.layerscope.spark.JobOptions;
import io.layerscope.spark.SparkSessions;
import io.layerscope.spark.SweepJob;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sequential sweep (Wanda's prune_wanda on Spark) on the demo model against
 * {@link SequentialReference}, a plain-Java prune_wanda: the same scaler_rows, the same masks in the
 * pruned checkpoint, every other byte of it the source's, the depth tables of its pruned stream, and
 * the same results for 1, 2 and 3 shards.
 */
class SequentialSweepIT {
    static final int NSAMPLES = 8;
    static final int SEQLEN = 64;

    @TempDir
    static Path tmp;
    static Path cache;
    static Path modelDir;
    static SweepJob.Outcome twoShards;
    static String twoShardsErr;
    static List<int[]> windows;

    @BeforeAll
    static void sweepSequentially() {
        cache = tmp.resolve("cache");
        modelDir = DemoModel.ensure(cache);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        twoShards = run(2, SparsityPattern.UNSTRUCTURED, tmp.resolve("pruned"), tmp.resolve("results"), new PrintStream(err));
        twoShardsErr = err.toString(java.nio.charset.StandardCharsets.UTF_8);
        windows = twoShards.samples().stream().map(CalibrationSample::tokens).toList();
    }

    static SweepJob.Outcome run(int shards, SparsityPattern pattern, Path savePruned, Path out) {
        return run(shards, pattern, savePruned, out, new PrintStream(new ByteArrayOutputStream()));
    }

    static SweepJob.Outcome run(int shards, SparsityPattern pattern, Path savePruned, Path out, PrintStream err) {
        JobOptions o = new JobOptions("sweep",
                new JobOptions.Model("demo", null, null, null, modelDir, cache, TestEnvironment.offline()),
                new JobOptions.Calibration("demo", NSAMPLES, SEQLEN, 0, ComputeDtype.FLOAT32, shards, 1),
                new JobOptions.Analysis(null, false, 0.5, PruneMode.SEQUENTIAL, pattern, Allocation.uniform()),
                new JobOptions.Output(out, out == null ? tmp.resolve("png") : null, false, null, savePruned, null));
        return new SweepJob(o, err).run();
    }

    /**
     * The rounds' progress counts sequences through block passes: the demo model's 4 dense and 4
     * pruned passes (the depth tables need the last) of 8 windows, never falling back, then done.
     */
    @Test
    void theRoundsProgressCountsEveryBlockPassOfEveryWindow() {
        List<String> lines = twoShardsErr.lines().filter(l -> l.startsWith("sequential rounds: ")).toList();
        assertTrue(lines.size() >= 1, twoShardsErr);
        long before = 0;
        for (String l : lines) {
            String[] done = l.substring("sequential rounds: ".length(), l.indexOf(' ', "sequential rounds: ".length())).split("/");
            assertEquals("64", done[1], l);
            long now = Long.parseLong(done[0]);
            assertTrue(now >= before && now <= 64, l);
            before = now;
        }
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("sequential rounds: 64/64 sample passes, ") && last.endsWith(" s (done)"), last);
    }

    @Test
    void scalerRowsAreWhatPruneWandaComputes() {
        SequentialReference.Result ref = SequentialReference.run(Checkpoint.open(modelDir), windows, 0.5, 0, 0);
        for (LayerResult r : twoShards.layers()) {
            float[] expected = ref.scalerRows().get(r.layer().tapKey());
            float[] actual = r.scalerRow();
            for (int j = 0; j < expected.length; j++) {
                assertEquals(expected[j], actual[j], 1e-5 * Math.abs(expected[j]) + 1e-12,
                        r.layer().name() + " scaler_row[" + j + "]");
            }
            assertTrue(r.drift() != null && r.drift().denseScalerRow().length == expected.length, r.layer().name());
        }
    }

    /**
     * The drift columns against the dense model's own statistics: its scaler_rows, the act_norm
     * cosine and norm ratio of the sequential rows to them, the share of entries where the mask from
     * the dense rows equals prune_wanda's, and the share each mask prunes (every in_features of the
     * demo model is even, so exactly half).
     */
    @Test
    void theDriftColumnsCompareWithTheDenseModelsStatistics() {
        Checkpoint ckpt = Checkpoint.open(modelDir);
        SequentialReference.Result ref = SequentialReference.run(ckpt, windows, 0.5, 0, 0);
        Map<String, float[]> dense = denseScalerRows(ckpt);
        int belowOne = 0;
        for (LayerResult r : twoShards.layers()) {
            String name = r.layer().name();
            float[] d = dense.get(r.layer().tapKey());
            float[] denseRow = r.drift().denseScalerRow();
            for (int j = 0; j < d.length; j++) {
                assertEquals(d[j], denseRow[j], 1e-5 * d[j] + 1e-12, name + " scaler_row_dense[" + j + "]");
            }
            float[] seq = ref.scalerRows().get(r.layer().tapKey());
            double dot = 0;
            double aa = 0;
            double dd = 0;
            for (int j = 0; j < d.length; j++) {
                double a = (float) Math.sqrt(seq[j]);
                double b = (float) Math.sqrt(d[j]);
                dot += a * b;
                aa += a * a;
                dd += b * b;
            }
            assertEquals(dot / Math.sqrt(aa * dd), r.drift().actNormCos(), 1e-6, name + " drift_act_norm_cos");
            assertEquals(Math.sqrt(aa) / Math.sqrt(dd), r.drift().actNormRatio(), 1e-5, name + " drift_act_norm_ratio");
            belowOne += r.drift().actNormCos() < 1 - 1e-6 ? 1 : 0;
            if (r.layer().kind() == LayerKind.LM_HEAD) {
                continue;
            }
            int out = r.layer().outFeatures();
            int in = r.layer().inFeatures();
            boolean[][] seqMask = ref.masks().get(name);
            boolean[][] denseMask = SequentialReference.mask(ckpt.readFloats(r.layer().weightTensor()), out, in, d, 0.5);
            long same = 0;
            long pruned = 0;
            for (int i = 0; i < out; i++) {
                for (int j = 0; j < in; j++) {
                    same += seqMask[i][j] == denseMask[i][j] ? 1 : 0;
                    pruned += seqMask[i][j] ? 1 : 0;
                }
            }
            // the dense rows here and the job's differ in float32's last bits: a tie may fall either way
            assertEquals((double) same / ((long) out * in), r.drift().maskAgreement(), 2.0 / ((long) out * in),
                    name + " drift_mask_agreement");
            assertEquals(0.5, (double) pruned / ((long) out * in), name + " reference");
            assertEquals(0.5, r.drift().sparsityActual(), name + " sparsity_actual");
            assertEquals(0.5, r.drift().sparsityTarget(), name + " sparsity_target");
        }
        // past block 0 the pruned stream has moved the statistics: the drift is really measured
        assertTrue(belowOne > 0, "every act_norm cosine is 1");
    }

    @Test
    void thePrunedCheckpointHoldsTheReferenceMasksAndOtherwiseTheSourceBytes() throws Exception {
        SequentialReference.Result ref = SequentialReference.run(Checkpoint.open(modelDir), windows, 0.5, 0, 0);
        assertPrunedAs(ref, tmp.resolve("pruned"), in -> in / 2);
    }

    @Test
    void nOfMMasksFollowTheRuleInEveryGroup() throws Exception {
        Path pruned = tmp.resolve("pruned-2of4");
        run(3, new SparsityPattern(2, 4), pruned, null);
        SequentialReference.Result ref = SequentialReference.run(Checkpoint.open(modelDir), windows, 0.5, 2, 4);
        assertPrunedAs(ref, pruned, in -> in / 2);
        Checkpoint p = Checkpoint.open(pruned);
        Checkpoint source = Checkpoint.open(modelDir);
        for (PrunableLayer l : p.prunableLayers()) {
            if (l.kind() == LayerKind.LM_HEAD) {
                continue;
            }
            float[] w = p.readFloats(l.weightTensor());
            float[] s = source.readFloats(l.weightTensor());
            for (int i = 0; i < l.outFeatures(); i++) {
                for (int g = 0; g < l.inFeatures(); g += 4) {
                    int zeros = 0;
                    int sourceZeros = 0;
                    for (int j = g; j < g + 4; j++) {
                        zeros += w[i * l.inFeatures() + j] == 0 ? 1 : 0;
                        sourceZeros += s[i * l.inFeatures() + j] == 0 ? 1 : 0;
                    }
                    if (sourceZeros == 0) {
                        assertEquals(2, zeros, l.name() + " row " + i + " group " + g);
                    }
                }
            }
        }
    }

    @Test
    void oneTwoAndThreeShardsGiveTheSameBits() {
        SweepJob.Outcome one = run(1, SparsityPattern.UNSTRUCTURED, null, tmp.resolve("one"));
        SweepJob.Outcome three = run(3, SparsityPattern.UNSTRUCTURED, null, tmp.resolve("three"));
        for (SweepJob.Outcome other : List.of(one, three)) {
            assertEquals(twoShards.layers().size(), other.layers().size());
            for (int i = 0; i < other.layers().size(); i++) {
                LayerResult a = twoShards.layers().get(i);
                LayerResult b = other.layers().get(i);
                assertArrayEquals(a.scalerRow(), b.scalerRow(), a.layer().name());
                assertEquals(a.stats(), b.stats(), a.layer().name());
                assertEquals(a.drift().maskAgreement(), b.drift().maskAgreement(), a.layer().name());
                assertEquals(a.drift().sparsityActual(), b.drift().sparsityActual(), a.layer().name());
            }
            assertEquals(twoShards.blocks(), other.blocks());
        }
        Map<String, List<String>> two = depthRows(tmp.resolve("results"));
        assertEquals(two, depthRows(tmp.resolve("one")));
        assertEquals(two, depthRows(tmp.resolve("three")));
    }

    @Test
    void depthTablesAreThoseOfThePrunedStreamThatPruneWandaFeedsEachBlock() {
        SequentialReference.Result ref = SequentialReference.run(Checkpoint.open(modelDir), windows, 0.5, 0, 0);
        List<Map<String, double[][]>> st = ref.streams();
        int blocks = Checkpoint.open(modelDir).config().numHiddenLayers();
        List<Row> rows = table(tmp.resolve("results"), "blocks", "block");
        assertEquals(blocks, rows.size());
        for (int b = 0; b < blocks; b++) {
            Row r = rows.get(b);
            double influence = 0;
            for (Map<String, double[][]> w : st) {
                for (int t = 0; t < SEQLEN; t++) {
                    influence += 1 - cos(w.get("residual/" + b)[t], w.get("residual/" + (b + 1))[t]);
                }
            }
            assertEquals(influence / (NSAMPLES * SEQLEN), r.getAs("block_influence"), 1e-5, "block " + b);
            assertEquals(distance(st, b, b + 1), r.getAs("angular_distance_next"), 1e-5, "block " + b);
            assertPeak(maxAbs(st, "residual/" + (b + 1)), r, "massive_top_", "massive_top_abs", "block " + b);
            assertPeak(maxAbs(st, "down_in/" + b), r, "down_proj_in_", "down_proj_in_max_abs", "block " + b);
            assertPeak(maxAbs(st, "down_out/" + b), r, "down_proj_out_", "down_proj_out_max_abs", "block " + b);
            List<Double> abs = new ArrayList<>();
            for (Map<String, double[][]> w : st) {
                for (double[] tok : w.get("residual/" + (b + 1))) {
                    for (double v : tok) {
                        abs.add(Math.abs((double) (float) v));
                    }
                }
            }
            abs.sort(null);
            double median = abs.get((abs.size() - 1) / 2);
            // the table keeps the bfloat16 truncation: within 2^-7 below the median
            double got = r.getAs("massive_median_abs");
            assertTrue(got <= median * (1 + 1e-5) && got >= median * (1 - 0x1p-7) - 1e-6, "block " + b + ": " + got + " " + median);
        }
        List<Row> distances = table(tmp.resolve("results"), "block_distances", "span, start");
        assertEquals(blocks * (blocks + 1) / 2, distances.size());
        for (Row r : distances) {
            int start = r.getAs("start");
            int span = r.getAs("span");
            assertEquals(distance(st, start, start + span), r.getAs("angular_distance"), 1e-5, start + "+" + span);
            double best = Double.MAX_VALUE;
            for (int l = 0; l + span <= blocks; l++) {
                best = Math.min(best, distance(st, l, l + span));
            }
            assertEquals(best, distance(st, r.getAs("best_start"), (int) r.getAs("best_start") + span), 1e-5);
        }
        // a candidate wherever down_proj's two spikes share a token, checked against the mask of its round
        List<Row> candidates = table(tmp.resolve("results"), "super_weights", "block");
        int expected = 0;
        for (int b = 0; b < blocks; b++) {
            double[] in = maxAbs(st, "down_in/" + b);
            double[] out = maxAbs(st, "down_out/" + b);
            if (in[1] == out[1] && in[2] == out[2]) {
                int block = b;
                Row c = candidates.stream().filter(x -> (int) x.getAs("block") == block).findFirst().orElseThrow();
                int i = (int) out[3];
                int j = (int) in[3];
                assertEquals(i, (int) c.getAs("weight_row"));
                assertEquals(j, (int) c.getAs("weight_column"));
                assertEquals(ref.masks().get("model.layers." + b + ".mlp.down_proj")[i][j], c.getAs("pruned_wanda_row"));
                expected++;
            }
        }
        assertEquals(expected, candidates.size());
    }

    @Test
    void outlierFeaturesAreThoseOfTheTapsTheRoundsMasksSee() {
        SequentialReference.Result ref = SequentialReference.run(Checkpoint.open(modelDir), windows, 0.5, 0, 0);
        List<Map<String, double[][]>> st = ref.streams();
        Checkpoint ckpt = Checkpoint.open(modelDir);
        int blocks = ckpt.config().numHiddenLayers();
        List<Row> rows = table(tmp.resolve("results"), "outlier_features", "tap, channel");
        // float32 against double: a value within 1e-4 of 6 may fall on either side, so count both ways
        Map<String, double[]> low = outlierShares(st, blocks, 6 + 1e-4);
        Map<String, double[]> high = outlierShares(st, blocks, 6 - 1e-4);
        int listed = 0;
        for (String key : high.keySet()) {
            double[] lo = low.getOrDefault(key, new double[] {0, 0});
            double[] hi = high.get(key);
            Row r = rows.stream().filter(x -> key.equals(x.getAs("tap") + "#" + x.getAs("channel"))).findFirst().orElse(null);
            boolean surely = lo[0] >= 0.25 && lo[1] >= 0.06;
            boolean maybe = hi[0] >= 0.25 && hi[1] >= 0.06;
            assertTrue(r == null ? !surely : maybe, key + " listed: " + (r != null));
            if (r != null) {
                listed++;
                double blockShare = r.getAs("block_share");
                double positionShare = r.getAs("position_share");
                assertTrue(blockShare >= lo[0] && blockShare <= hi[0], key + " block_share " + blockShare);
                assertTrue(positionShare >= lo[1] && positionShare <= hi[1], key + " position_share " + positionShare);
                // the layers reading the channel whose mask (of their round) prunes a weight of its column
                String tap = key.substring(0, key.indexOf('#'));
                int c = Integer.parseInt(key.substring(key.indexOf('#') + 1));
                List<String> expected = new ArrayList<>();
                long pruned = 0;
                long weights = 0;
                for (PrunableLayer l : ckpt.prunableLayers()) {
                    if (l.kind() != LayerKind.LM_HEAD && l.tap().name().equals(tap)) {
                        boolean[][] mask = ref.masks().get(l.name());
                        int inColumn = 0;
                        for (boolean[] row : mask) {
                            inColumn += row[c] ? 1 : 0;
                        }
                        if (inColumn > 0) {
                            expected.add(l.name());
                        }
                        pruned += inColumn;
                        weights += mask.length;
                    }
                }
                assertEquals((double) pruned / weights, (double) r.getAs("wanda_pruned_share"), 1e-15, key);
                List<String> got = new ArrayList<>(r.getList(r.fieldIndex("wanda_pruned_layers")));
                expected.sort(null);
                got.sort(null);
                assertEquals(expected, got, key);
            }
        }
        assertEquals(rows.size(), listed);
        assertTrue(listed > 0, "the demo model's planted outlier features");
    }

    /** Per "TAP#channel" reaching |x| >= threshold somewhere: {share of blocks, share of positions in any block}. */
    private static Map<String, double[]> outlierShares(List<Map<String, double[][]>> st, int blocks, double threshold) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (String tap : List.of("ATTN_IN", "ATTN_OUT", "MLP_IN", "MLP_ACT")) {
            int width = st.get(0).get("0/" + tap)[0].length;
            for (int c = 0; c < width; c++) {
                int inBlocks = 0;
                for (int b = 0; b < blocks; b++) {
                    boolean seen = false;
                    for (Map<String, double[][]> w : st) {
                        for (double[] token : w.get(b + "/" + tap)) {
                            seen |= Math.abs(token[c]) >= threshold;
                        }
                    }
                    inBlocks += seen ? 1 : 0;
                }
                long positions = 0;
                for (Map<String, double[][]> w : st) {
                    for (int t = 0; t < SEQLEN; t++) {
                        boolean any = false;
                        for (int b = 0; b < blocks; b++) {
                            any |= Math.abs(w.get(b + "/" + tap)[t][c]) >= threshold;
                        }
                        positions += any ? 1 : 0;
                    }
                }
                if (positions > 0) {
                    out.put(tap + "#" + c, new double[] {inBlocks / (double) blocks, positions / (double) (NSAMPLES * SEQLEN)});
                }
            }
        }
        return out;
    }

    @Test
    void theDenseRunsDepthTablesDifferBeyondWhatTheDenseBlockZeroSees() throws Exception {
        Path dense = tmp.resolve("dense-depth");
        JobOptions o = new JobOptions("sweep",
                new JobOptions.Model("demo", null, null, null, modelDir, cache, TestEnvironment.offline()),
                new JobOptions.Calibration("demo", NSAMPLES, SEQLEN, 0, ComputeDtype.FLOAT32, 2, 1),
                new JobOptions.Analysis(null, false, 0.5, PruneMode.DENSE, SparsityPattern.UNSTRUCTURED, Allocation.uniform()),
                new JobOptions.Output(dense, null, false, null));
        new SweepJob(o, new PrintStream(new ByteArrayOutputStream())).run();
        List<Row> d = table(dense, "blocks", "block");
        List<Row> s = table(tmp.resolve("results"), "blocks", "block");
        for (int b = 0; b < s.size(); b++) {
            // OWL's ratios come from the dense statistics in both modes: counted by the per-layer stage in
            // the dense run, by a second pass of their own in the sequential one, to the same entries
            for (String c : List.of("owl_ratio_m3", "owl_ratio_m5", "owl_ratio_m7", "owl_outlier_ratio")) {
                assertEquals((double) s.get(b).getAs(c), (double) d.get(b).getAs(c), "block " + b + " " + c);
            }
            // every block's output is a pruned block's on the pruned stream
            assertTrue(Math.abs((double) d.get(b).getAs("block_influence") - (double) s.get(b).getAs("block_influence")) > 1e-4,
                    "block " + b);
        }
        // block 0's dense pass reads the embedding in both modes: the same down_proj spike
        assertEquals((double) d.get(0).getAs("down_proj_in_max_abs"), s.get(0).getAs("down_proj_in_max_abs"), 1e-5);
        assertTrue(Math.abs((double) d.get(1).getAs("down_proj_in_max_abs") - (double) s.get(1).getAs("down_proj_in_max_abs"))
                > 1e-4);
        List<Row> dd = table(dense, "block_distances", "span, start");
        List<Row> sd = table(tmp.resolve("results"), "block_distances", "span, start");
        assertTrue(Math.abs((double) dd.get(0).getAs("angular_distance") - (double) sd.get(0).getAs("angular_distance")) > 1e-4);
        // and each report says which stream its depth section describes
        assertTrue(Files.readString(dense.resolve(HtmlReport.FILE)).contains(
                "<p class=\"hint\" id=\"depth-stream\">From the dense model's calibration forward.</p>"));
        assertTrue(Files.readString(tmp.resolve("results").resolve(HtmlReport.FILE)).contains(
                "<p class=\"hint\" id=\"depth-stream\">Sequential run: the residual stream here is the pruned model's"));
    }

    /**
     * Under OWL (at M = 3 and lambda 0.1, so that neither default could pass for the option) every
     * block's outlier ratios D, from the dense model, and its allocated sparsity as OWL's formula
     * makes it from them, all by plain loops; then the pruned stream's depth tables.
     */
    @Test
    void underOwlWithOneBlockAnalysedTheDepthTablesStillCoverEveryBlockOnThePrunedStream() {
        Path out = tmp.resolve("owl-block0");
        double owlM = 3;
        double lambda = 0.1;
        Allocation owl = new Allocation(Allocation.Kind.OWL, owlM, lambda);
        JobOptions o = new JobOptions("sweep",
                new JobOptions.Model("demo", null, null, null, modelDir, cache, TestEnvironment.offline()),
                new JobOptions.Calibration("demo", NSAMPLES, SEQLEN, 0, ComputeDtype.FLOAT32, 2, 1),
                new JobOptions.Analysis("layers\\.0\\.", false, 0.5, PruneMode.SEQUENTIAL, SparsityPattern.UNSTRUCTURED, owl),
                new JobOptions.Output(out, null, false, null));
        SweepJob.Outcome r = new SweepJob(o, new PrintStream(new ByteArrayOutputStream())).run();
        assertTrue(r.layers().stream().allMatch(l -> l.layer().block() == 0));
        int blocks = Checkpoint.open(modelDir).config().numHiddenLayers();
        List<Row> rows = table(out, "blocks", "block");
        assertEquals(blocks, rows.size());
        double[] allocated = new double[blocks];
        for (int b = 0; b < blocks; b++) {
            // every block was pruned (at its own OWL sparsity) to carry the stream to the last boundary
            assertTrue(rows.get(b).getAs("sparsity_actual") != null, "block " + b);
            allocated[b] = rows.get(b).getAs("sparsity_allocated");
        }
        assertTrue(Arrays.stream(allocated).distinct().count() > 1, "OWL gives the blocks different sparsities");
        Checkpoint ckpt = Checkpoint.open(modelDir);
        Map<String, float[]> denseRows = denseScalerRows(ckpt);
        double[] d = new double[blocks];
        for (int b = 0; b < blocks; b++) {
            int block = b;
            long entries = ckpt.prunableLayers().stream().filter(l -> l.block() == block)
                    .mapToLong(l -> (long) l.outFeatures() * l.inFeatures()).sum();
            // the reference's dense rows and the job's differ in float32's last bits: an entry at the
            // threshold may fall either way, one entry's share of D
            double oneEntry = 100.0 / entries + 1e-12;
            double[] ratios = owlOutlierRatios(ckpt, b, denseRows, new double[] {owlM, 3, 5, 7});
            d[b] = rows.get(b).getAs("owl_outlier_ratio");
            assertEquals(ratios[0], d[b], oneEntry, "block " + b + " D at --owl-m 3");
            assertEquals(ratios[1], rows.get(b).getAs("owl_ratio_m3"), oneEntry, "block " + b);
            assertEquals(ratios[2], rows.get(b).getAs("owl_ratio_m5"), oneEntry, "block " + b);
            assertEquals(ratios[3], rows.get(b).getAs("owl_ratio_m7"), oneEntry, "block " + b);
            assertEquals((double) rows.get(b).getAs("owl_ratio_m3"), d[b], "block " + b + ": --owl-m 3 is M = 3");
        }
        // OWL's allocation from the job's own D (just checked): D' = (D - min D) / (max D - min D) * 2 lambda,
        // density = D' - mean D' + (1 - s)
        double min = Arrays.stream(d).min().orElseThrow();
        double max = Arrays.stream(d).max().orElseThrow();
        double[] scaled = Arrays.stream(d).map(v -> (v - min) / (max - min) * 2 * lambda).toArray();
        double mean = Arrays.stream(scaled).sum() / blocks;
        for (int b = 0; b < blocks; b++) {
            assertEquals(1 - (scaled[b] - mean + 0.5), allocated[b], 1e-12, "block " + b + " sparsity_allocated");
        }
        // every block's influence and the whole range's distance as prune_wanda at OWL's sparsities leaves them
        List<Map<String, double[][]>> st = SequentialReference.run(Checkpoint.open(modelDir), windows, allocated, 0, 0).streams();
        for (int b = 0; b < blocks; b++) {
            double influence = 0;
            for (Map<String, double[][]> w : st) {
                for (int t = 0; t < SEQLEN; t++) {
                    influence += 1 - cos(w.get("residual/" + b)[t], w.get("residual/" + (b + 1))[t]);
                }
            }
            assertEquals(influence / (NSAMPLES * SEQLEN), rows.get(b).getAs("block_influence"), 1e-5, "block " + b);
        }
        List<Row> distances = table(out, "block_distances", "span, start");
        assertEquals(blocks * (blocks + 1) / 2, distances.size());
        Row whole = distances.get(distances.size() - 1);
        assertEquals(blocks, (int) whole.getAs("span"));
        assertEquals(distance(st, 0, blocks), whole.getAs("angular_distance"), 1e-5);
    }

    /** Every tap's scaler_row over the windows on the dense model. */
    private static Map<String, float[]> denseScalerRows(Checkpoint ckpt) {
        return SequentialReference.scalerRows(new ReferenceLlama(ckpt), windows, ckpt.config().numHiddenLayers() - 1, null);
    }

    /**
     * OWL's D of block {@code block} at each multiplier, in percent: the seven Linears' Wanda metrics
     * |W| * sqrt(scaler_row) (float32) in one list, their mean summed in double and rounded to float32,
     * and the entries strictly above M * mean (float32).
     */
    private static double[] owlOutlierRatios(Checkpoint ckpt, int block, Map<String, float[]> rows, double[] multipliers) {
        List<float[]> metrics = new ArrayList<>();
        double sum = 0;
        long entries = 0;
        for (PrunableLayer l : ckpt.prunableLayers()) {
            if (l.block() != block) {
                continue;
            }
            float[] w = ckpt.readFloats(l.weightTensor());
            float[] row = rows.get(l.tapKey());
            float[] metric = new float[w.length];
            for (int k = 0; k < w.length; k++) {
                metric[k] = Math.abs(w[k]) * (float) Math.sqrt(row[k % l.inFeatures()]);
                sum += metric[k];
            }
            entries += w.length;
            metrics.add(metric);
        }
        assertEquals(7, metrics.size(), "block " + block + " Linears");
        float mean = (float) (sum / entries);
        double[] percent = new double[multipliers.length];
        for (int m = 0; m < multipliers.length; m++) {
            float threshold = mean * (float) multipliers[m];
            long above = 0;
            for (float[] metric : metrics) {
                for (float v : metric) {
                    above += v > threshold ? 1 : 0;
                }
            }
            percent[m] = 100.0 * above / entries;
        }
        return percent;
    }

    /** Asserts a peak column group: the value within float32 rounding, the coordinates exactly. */
    private static void assertPeak(double[] expected, Row r, String prefix, String valueColumn, String what) {
        assertEquals(expected[0], r.getAs(valueColumn), 1e-5 * expected[0], what + " " + valueColumn);
        assertEquals((int) expected[1], (int) r.getAs(prefix + "sample"), what + " " + prefix + "sample");
        assertEquals((int) expected[2], (int) r.getAs(prefix + "position"), what + " " + prefix + "position");
        assertEquals((int) expected[3], (int) r.getAs(prefix + "channel"), what + " " + prefix + "channel");
    }

    /** The largest |x| of a stream over every window: {abs, sample, position, channel}, the first on equal values. */
    private static double[] maxAbs(List<Map<String, double[][]>> streams, String key) {
        double[] best = {-1, 0, 0, 0};
        for (int s = 0; s < streams.size(); s++) {
            double[][] x = streams.get(s).get(key);
            for (int t = 0; t < x.length; t++) {
                for (int c = 0; c < x[t].length; c++) {
                    if (Math.abs(x[t][c]) > best[0]) {
                        best = new double[] {Math.abs(x[t][c]), s, t, c};
                    }
                }
            }
        }
        return best;
    }

    /** Mean over windows of arccos(cos) / pi between the last tokens of two boundaries. */
    private static double distance(List<Map<String, double[][]>> streams, int from, int to) {
        double sum = 0;
        for (Map<String, double[][]> w : streams) {
            double c = cos(w.get("residual/" + from)[SEQLEN - 1], w.get("residual/" + to)[SEQLEN - 1]);
            sum += Math.acos(Math.max(-1, Math.min(1, c))) / Math.PI;
        }
        return sum / streams.size();
    }

    private static double cos(double[] a, double[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / (Math.sqrt(na) * Math.sqrt(nb));
    }

    private static List<Row> table(Path dir, String name, String order) {
        SparkSession spark = SparkSessions.getOrCreate("test");
        spark.read().parquet(dir.resolve(name + ".parquet").toString()).createOrReplaceTempView("t");
        return spark.sql("SELECT * FROM t ORDER BY " + order).collectAsList();
    }

    /** The depth tables' rows as text, every column but run_id (which names the run). */
    private static Map<String, List<String>> depthRows(Path dir) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String t : List.of("blocks", "block_distances", "super_weights", "outlier_features")) {
            List<String> rows = new ArrayList<>();
            SparkSessions.getOrCreate("test").read().parquet(dir.resolve(t + ".parquet").toString()).drop("run_id")
                    .collectAsList().forEach(r -> rows.add(r.toString()));
            out.put(t, rows);
        }
        return out;
    }

    @Test
    void lmHeadIsAnalysedButNotPruned() {
        LayerResult head = twoShards.layers().get(twoShards.layers().size() - 1);
        assertEquals(LayerKind.LM_HEAD, head.layer().kind());
        assertNull(head.drift().sparsityTarget());
        assertNull(head.drift().sparsityActual());
        for (LayerResult r : twoShards.layers()) {
            if (r.layer().block() == 0) {
                // block 0 sees the unpruned embeddings: the dense view, up to float addition order
                assertEquals(1.0, r.drift().actNormCos(), 1e-9, r.layer().name());
            }
        }
    }

    @Test
    void aDenseSweepReadsThePrunedCheckpoint() {
        // named relative to the working directory, as a user types it: the index's shards are absolute paths
        Path pruned = Path.of("").toAbsolutePath().relativize(tmp.resolve("pruned").toAbsolutePath());
        Checkpoint p = Checkpoint.open(pruned);
        assertEquals(Checkpoint.open(modelDir).prunableLayers(), p.prunableLayers());
        JobOptions o = new JobOptions("sweep",
                new JobOptions.Model(pruned.toString(), null, null, null, pruned, cache, TestEnvironment.offline()),
                new JobOptions.Calibration("demo", 2, SEQLEN, 0, ComputeDtype.FLOAT32, 1, 1),
                JobOptions.Analysis.dense("down_proj", false, 0.5),
                new JobOptions.Output(tmp.resolve("dense-of-pruned"), null, false, null));
        SweepJob.Outcome dense = new SweepJob(o, new PrintStream(new ByteArrayOutputStream())).run();
        assertEquals(5, io.layerscope.spark.RunRecord.read(tmp.resolve("dense-of-pruned")).model().files().size());
        for (LayerResult r : dense.layers()) {
            // half of every row is zero now: the lower median of |W| is 0
            assertEquals(0.0, r.stats().weightAbs().summary().median(), r.layer().name());
        }
    }

    interface PerRow {
        int zeros(int in);
    }

    /** Every masked entry zero and every other byte of every tensor the source's; per row {@code perRow} zeros where the source had none. */
    private static void assertPrunedAs(SequentialReference.Result ref, Path pruned, PerRow perRow) throws Exception {
        Checkpoint source = Checkpoint.open(modelDir);
        Checkpoint p = Checkpoint.open(pruned);
        assertTrue(Files.isRegularFile(pruned.resolve(PrunedCheckpointWriter.MARKER)));
        assertTrue(Files.isRegularFile(pruned.resolve("tokenizer.json")));
        assertArrayEquals(Files.readAllBytes(modelDir.resolve("config.json")), Files.readAllBytes(pruned.resolve("config.json")));
        int tensors = 0;
        for (SafetensorsFile f : source.files()) {
            for (TensorInfo t : f.tensors().values()) {
                tensors++;
                TensorInfo copy = p.tensor(t.name());
                assertEquals(t.dtype(), copy.dtype(), t.name());
                assertArrayEquals(t.shape(), copy.shape(), t.name());
                ByteBuffer a = f.map(t.name());
                ByteBuffer b = p.fileOf(t.name()).map(t.name());
                PrunableLayer layer = source.prunableLayers().stream()
                        .filter(l -> l.weightTensor().equals(t.name()) && l.kind() != LayerKind.LM_HEAD).findFirst().orElse(null);
                int size = t.dtype().bytes();
                boolean[][] mask = layer == null ? null : ref.masks().get(layer.name());
                for (int k = 0; k < t.numel(); k++) {
                    boolean masked = mask != null && mask[k / layer.inFeatures()][k % layer.inFeatures()];
                    for (int byteIndex = 0; byteIndex < size; byteIndex++) {
                        byte expected = masked ? 0 : a.get(k * size + byteIndex);
                        assertEquals(expected, b.get(k * size + byteIndex), t.name() + " entry " + k);
                    }
                }
                if (mask != null) {
                    float[] s = source.readFloats(t.name());
                    float[] w = p.readFloats(t.name());
                    for (int i = 0; i < layer.outFeatures(); i++) {
                        int count = 0;
                        boolean sourceZero = false;
                        for (int j = 0; j < layer.inFeatures(); j++) {
                            count += w[i * layer.inFeatures() + j] == 0 ? 1 : 0;
                            sourceZero |= s[i * layer.inFeatures() + j] == 0;
                        }
                        if (!sourceZero) {
                            assertEquals(perRow.zeros(layer.inFeatures()), count, layer.name() + " row " + i);
                        }
                    }
                }
            }
        }
        assertEquals(tensors, p.files().stream().mapToInt(f -> f.tensors().size()).sum());
    }
}
