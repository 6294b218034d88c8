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
    void twoResultDirectoriesAreTaggedByRun() throws Exception {
        Path copy = tmp.resolve("r2");
        try (var files = Files.walk(results)) {
            for (Path p : files.toList()) {
                Path target = copy.resolve(results.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        MainTest.Run r = run("query", "--results", results.toString(), "--results", copy.toString(), "--format", "csv",
                "SELECT run, count(*) AS n FROM layers GROUP BY run ORDER BY run");
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of("run,n", "r,3", "r2,3"), r.out().lines().toList());
    }

    private static final String NESTED = "SELECT CAST('ab' AS BINARY) AS b, map('k', 1, 'n', NULL) AS m,"
            + " named_struct('a', 1, 'b', 'x,y') AS s, array(1, NULL) AS a, CAST(NULL AS STRING) AS z";

    @Test
    void binaryMapsStructsAndArraysAsSparkPrintsThem() throws Exception {
        MainTest.Run table = run("query", "--results", results.toString(), NESTED);
        assertEquals(0, table.status(), table.err());
        assertEquals(List.of("b       | m                   | s        | a         | z", "--------+---------------------+----------+-----------+--",
                "[61 62] | {k -> 1, n -> NULL} | {1, x,y} | [1, NULL] |", "(1 row)"), table.out().lines().toList());
        MainTest.Run csv = run("query", "--results", results.toString(), "--format", "csv", NESTED);
        assertEquals(0, csv.status(), csv.err());
        assertEquals(List.of("b,m,s,a,z", "[61 62],\"{k -> 1, n -> NULL}\",\"{1, x,y}\",\"[1, NULL]\","),
                csv.out().lines().toList());
        MainTest.Run json = run("query", "--results", results.toString(), "--format", "json", NESTED);
        assertEquals(0, json.status(), json.err());
        JsonNode row = new ObjectMapper().readTree(json.out());
        assertEquals("{\"b\":\"YWI=\",\"m\":{\"k\":1,\"n\":null},\"s\":{\"a\":1,\"b\":\"x,y\"},\"a\":[1,null]}", row.toString());
    }

    @Test
    void theTableShowsItsFirstThousandRowsAndSaysSoCsvAndJsonStreamThemAll() {
        MainTest.Run table = run("query", "--results", results.toString(), "SELECT id FROM range(2500)");
        assertEquals(0, table.status(), table.err());
        List<String> lines = table.out().lines().toList();
        assertEquals(1003, lines.size());
        assertEquals("999", lines.get(1001));
        assertEquals("(first 1000 of 2500 rows)", lines.get(1002));
        assertEquals("note: the table shows the first 1000 of 2500 rows; use --format csv or --format json for all of them\n",
                table.err());
        MainTest.Run csv = run("query", "--results", results.toString(), "--format", "csv",
                "SELECT id, repeat('x', 1000) AS pad FROM range(2500)");   // 2.5 MB: past the held-back first MiB
        assertEquals(0, csv.status(), csv.err());
        lines = csv.out().lines().toList();
        assertEquals(2501, lines.size());
        assertTrue(lines.get(2500).startsWith("2499,xxx"), lines.get(2500));
    }

    @Test
    void unknownTableGivesSparksMessageAndExitTwo() {
        MainTest.Run r = run("query", "--results", results.toString(), "SELECT * FROM nosuch");
        assertEquals(2, r.status());
        assertEquals("", r.out());
        assertEquals("error: query failed: no table or view named `nosuch` (line 1, position 14)."
                + " The tables are: activation_norms, block_distances, blocks, calibration, layers, outlier_features,"
                + " super_weights.\n", r.err());
    }

    @Test
    void aDirectoryThatIsNotAResultsDirectoryIsRefused() {
        MainTest.Run r = run("query", "--results", tmp.toString(), "SELECT 1");
        assertEquals(2, r.status());
        assertEquals("error: " + tmp + " is not a layerscope results directory (expected run.json and layers.parquet;"
                + " give the --out directory of a sweep or layer job)\n", r.err());
    }
}
