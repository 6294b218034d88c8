package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line end to end: a small sweep of the demo model, then SQL over its results in each format. */
class QueryCommandIT {
    @TempDir
    static Path tmp;
    static Path results;

    static MainTest.Run run(String... args) {
        return MainTest.run(args);
    }

    @BeforeAll
    static void sweep() {
        results = tmp.resolve("r");
        MainTest.Run r = run("sweep", "--model", "demo", "--cache-dir", tmp.resolve("cache").toString(), "--out", results.toString(),
                "--layers", "layers\\.0\\.self_attn\\.[qk]_proj|lm_head", "--nsamples", "4", "--seqlen", "32", "--no-png");
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.isDirectory(results.resolve("layers.parquet")));
    }

    @Test
    void jsonPrintsOneObjectPerRow() throws Exception {
        MainTest.Run r = run("query", "--results", results.toString(), "--format", "json",
                "SELECT layer, kind, in_features FROM layers ORDER BY layer");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size());
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        assertEquals("lm_head", first.get("layer").asText());
        assertEquals("lm_head", first.get("kind").asText());
        assertEquals(128, first.get("in_features").asInt());
        assertEquals("model.layers.0.self_attn.k_proj", new ObjectMapper().readTree(lines.get(1)).get("layer").asText());
    }

    @Test
    void csvPrintsAHeaderThenRows() {
        MainTest.Run r = run("query", "--results", results.toString(), "--format", "csv",
                "SELECT layer, out_features, top_act_features FROM layers WHERE kind = 'k_proj'");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("layer,out_features,top_act_features", lines.get(0));
        assertEquals(2, lines.size());
        assertTrue(lines.get(1).startsWith("model.layers.0.self_attn.k_proj,32,\"["), lines.get(1));
    }

    @Test
    void tableIsForPeopleAndCalibrationIsAView() {
        MainTest.Run r = run("query", "--results", results.toString(), "SELECT count(*) AS n, min(size(tokens)) AS len FROM calibration");
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of("n | len", "--+----", "4 | 32", "(1 row)"), r.out().lines().toList());
    }

    @Test
    void twoResultDirectoriesAreTaggedByRun() {
        MainTest.Run r = run("query", "--results", results.toString(), "--results", results.toString(), "--format", "csv",
                "SELECT run, count(*) AS n FROM layers GROUP BY run");
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of("run,n", "r,6"), r.out().lines().toList());
    }

    @Test
    void unknownTableGivesSparksMessageAndExitTwo() {
        MainTest.Run r = run("query", "--results", results.toString(), "SELECT * FROM nosuch");
        assertEquals(2, r.status());
        assertEquals("", r.out());
        assertEquals("error: query failed: no table or view named `nosuch` (line 1, position 14)."
                + " The tables are: activation_norms, calibration, layers.\n", r.err());
    }

    @Test
    void aDirectoryThatIsNotAResultsDirectoryIsRefused() {
        MainTest.Run r = run("query", "--results", tmp.toString(), "SELECT 1");
        assertEquals(2, r.status());
        assertEquals("error: " + tmp + " is not a layerscope results directory (expected run.json and layers.parquet;"
                + " give the --out directory of a sweep or layer job)\n", r.err());
    }
}
