package io.layerscope.llamacpp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.layerscope.cli.Main;
import io.layerscope.fixtures.TestEnvironment;
import io.layerscope.llama.ReferenceLlama;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DemoModel;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * sweep --imatrix end to end: llama.cpp's importance matrix of block 0 of the demo model, read by an
 * independent GGUF parser, against sums of x squared from the plain-Java reference forward over the
 * very windows the job ran (its calibration table).
 */
class ImportanceMatrixIT {
    @TempDir
    Path tmp;

    private static int run(StringWriter err, String... args) {
        CommandLine cl = Main.commandLine(TestEnvironment.offline());
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void sumsOfSquaresOfBlockZeroMatchAPlainForward() throws Exception {
        Path cache = tmp.resolve("cache");
        Path out = tmp.resolve("r");
        Path file = tmp.resolve("demo.imatrix.gguf");
        StringWriter err = new StringWriter();
        int status = run(err, "sweep", "--model", "demo", "--cache-dir", cache.toString(), "--out", out.toString(),
                "--layers", "layers\\.0\\.", "--nsamples", "3", "--seqlen", "24", "--no-png", "--imatrix", file.toString());
        assertEquals(0, status, err.toString());

        JsonNode g = GgufReader.read(file);
        JsonNode meta = g.get("metadata");
        assertEquals("imatrix", meta.get("general.type").get("value").asText());
        assertEquals(3, meta.get("imatrix.chunk_count").get("value").asInt());
        assertEquals(24, meta.get("imatrix.chunk_size").get("value").asInt());
        assertEquals("demo (3 windows of 24 tokens, seed 0)", meta.get("imatrix.datasets").get("value").get(0).asText());

        assertMatchesThePlainForward(g, out, cache, 0);

        // a second run refuses to replace it, before any work, and leaves it as it was
        byte[] before = Files.readAllBytes(file);
        StringWriter again = new StringWriter();
        assertEquals(2, run(again, "sweep", "--model", "demo", "--cache-dir", cache.toString(), "--out",
                tmp.resolve("r2").toString(), "--layers", "layers\\.0\\.", "--nsamples", "3", "--seqlen", "24", "--no-png",
                "--imatrix", file.toString()));
        assertEquals("error: --imatrix " + file + " already exists; pass --overwrite to replace it (only once the new one"
                + " is complete), or choose another file\n", again.toString());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(file)));
        assertTrue(Files.notExists(tmp.resolve("r2")));
    }

    @Test
    void aSequentialRunsMatrixIsTheUnprunedModelsAndSaysSo() throws Exception {
        Path cache = tmp.resolve("cache");
        Path out = tmp.resolve("r");
        Path file = tmp.resolve("seq.imatrix.gguf");
        StringWriter err = new StringWriter();
        java.io.ByteArrayOutputStream progress = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stderr = System.err;   // the job's own lines go there
        System.setErr(new java.io.PrintStream(new org.apache.commons.io.output.TeeOutputStream(stderr, progress), true));
        int status;
        try {
            // block 1: its inputs in sequential mode come from block 0 pruned, so they differ from the dense model's
            status = run(err, "sweep", "--model", "demo", "--cache-dir", cache.toString(), "--out", out.toString(),
                    "--mode", "sequential", "--layers", "layers\\.1\\.", "--nsamples", "3", "--seqlen", "24", "--no-png",
                    "--imatrix", file.toString());
        } finally {
            System.setErr(stderr);
        }
        assertEquals(0, status, err.toString());
        assertTrue(progress.toString(java.nio.charset.StandardCharsets.UTF_8).contains("note: --imatrix " + file
                + " holds the unpruned model's activations; for the pruned model's, save it (--save-pruned DIR) and run a"
                + " sweep on that directory with --imatrix\n"),
                progress.toString(java.nio.charset.StandardCharsets.UTF_8));
        assertMatchesThePlainForward(GgufReader.read(file), out, cache, 1);
        // and what the sequential statistics saw there is not that: the test tells the two apart
        Row differs = SparkSession.active().read().parquet(out.resolve("activation_norms.parquet").toString())
                .where("layer LIKE 'model.layers.1.%'")
                .selectExpr("max(abs(scaler_row - scaler_row_dense) / scaler_row_dense)").first();
        assertTrue(differs.getDouble(0) > 1e-2, "largest relative difference " + differs.getDouble(0));
    }

    /** Block {@code block}'s matrix against x^2 summed in double over every token of the run's windows, by the unpruned plain-Java forward. */
    private static void assertMatchesThePlainForward(JsonNode g, Path out, Path cache, int block) throws Exception {
        List<Row> windows = SparkSession.active().read().parquet(out.resolve("calibration.parquet").toString())
                .orderBy("sample").collectAsList();
        assertEquals(3, windows.size());
        ReferenceLlama reference = new ReferenceLlama(Checkpoint.open(DemoModel.directory(cache)));
        Map<String, double[]> expected = new HashMap<>();
        for (Row w : windows) {
            int[] ids = w.<Integer>getList(w.fieldIndex("tokens")).stream().mapToInt(Integer::intValue).toArray();
            reference.taps(ids, block).forEach((tap, x) -> {
                double[] sum = expected.computeIfAbsent(tap, k -> new double[x[0].length]);
                for (double[] token : x) {
                    for (int j = 0; j < token.length; j++) {
                        sum[j] += token[j] * token[j];
                    }
                }
            });
        }
        Map<String, String> tapOf = Map.of("attn_q", "ATTN_IN", "attn_k", "ATTN_IN", "attn_v", "ATTN_IN",
                "attn_output", "ATTN_OUT", "ffn_gate", "MLP_IN", "ffn_up", "MLP_IN", "ffn_down", "MLP_ACT");
        assertEquals(14, g.get("tensors").size(), "7 weights of block " + block + ", two tensors each");
        for (JsonNode t : g.get("tensors")) {
            String name = t.get("name").asText();
            assertTrue(name.startsWith("blk." + block + "."), name);
            if (name.endsWith(".counts")) {
                assertEquals(3 * 24.0, t.get("values").get(0).asDouble(), name);
                continue;
            }
            double[] want = expected.get(block + "/" + tapOf.get(name.split("\\.")[2]));
            assertEquals(want.length, t.get("values").size(), name);
            assertEquals("[" + want.length + ",1]", t.get("shape").toString(), name);
            for (int j = 0; j < want.length; j++) {
                double got = t.get("values").get(j).asDouble();
                assertTrue(Math.abs(got - want[j]) <= 1e-4 * Math.abs(want[j]) + 1e-6,
                        name + "[" + j + "]: " + got + " vs reference " + want[j]);
            }
        }
    }
}
