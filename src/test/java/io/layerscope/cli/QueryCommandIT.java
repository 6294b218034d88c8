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
                "--layers", "layers\\.0\\.self_attn\\.[qk]_proj|lm_head", "--nsamples", "4", "--seqlen", "32", "--no-png",
                "--no-depth");
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
    void csvPrintsAHeaderThenRows() throws Exception {
        String sql = "SELECT layer, out_features, top_act_features FROM layers WHERE kind = 'k_proj'";
        MainTest.Run r = run("query", "--results", results.toString(), "--format", "csv", sql);
        assertEquals(0, r.status(), r.err());
        // the array as show() prints it, quoted for its commas; its numbers as Spark's JSON writer gives them
        MainTest.Run json = run("query", "--results", results.toString(), "--format", "json", sql);
        assertEquals(0, json.status(), json.err());
        List<String> top = new java.util.ArrayList<>();
        new ObjectMapper().readTree(json.out()).get("top_act_features").forEach(f -> top.add(f.asText()));
        assertEquals(16, top.size());
        assertEquals("layer,out_features,top_act_features\n"
                + "model.layers.0.self_attn.k_proj,32,\"[" + String.join(", ", top) + "]\"\n", r.out());
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

        // a run without the table has no rows in it: said, lest it pass for a run that found none
        io.layerscope.FileTrees.deleteRecursively(copy.resolve("calibration.parquet"));
        r = run("query", "--results", results.toString(), "--results", copy.toString(), "--format", "csv",
                "SELECT run, count(*) AS n FROM calibration GROUP BY run");
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of("run,n", "r,4"), r.out().lines().toList());
        assertEquals(List.of("note: calibration has no rows of r2: that run has no calibration table"),
                r.err().lines().filter(l -> l.startsWith("note: ")).toList(), r.err());
        r = run("query", "--results", results.toString(), "--results", copy.toString(), "SELECT count(*) FROM layers");
        assertEquals(List.of(), r.err().lines().filter(l -> l.startsWith("note: ")).toList(), "every run has layers");
        r = run("query", "--results", results.toString(), "--results", copy.toString(),
                "SELECT count(*) FROM layers WHERE kind <> 'calibration' -- not calibration");
        assertEquals(List.of(), r.err().lines().filter(l -> l.startsWith("note: ")).toList(), "a string names no table");
    }

    private static final String NESTED = "SELECT CAST('ab' AS BINARY) AS b, map('k', 1, 'n', NULL) AS m,"
            + " named_struct('a', 1, 'b', 'x,y') AS s, array(1, NULL) AS a, CAST(NULL AS STRING) AS z, '' AS e";

    @Test
    void binaryMapsStructsAndArraysAsSparkPrintsThem() throws Exception {
        MainTest.Run table = run("query", "--results", results.toString(), NESTED);
        assertEquals(0, table.status(), table.err());
        // a null cell reads NULL, unlike an empty string
        assertEquals(List.of("b       | m                   | s        | a         | z    | e",
                "--------+---------------------+----------+-----------+------+--",
                "[61 62] | {k -> 1, n -> NULL} | {1, x,y} | [1, NULL] | NULL |", "(1 row)"), table.out().lines().toList());
        MainTest.Run csv = run("query", "--results", results.toString(), "--format", "csv", NESTED);
        assertEquals(0, csv.status(), csv.err());
        // in CSV a null is an empty field and an empty string "", as PostgreSQL and DuckDB read them
        assertEquals(List.of("b,m,s,a,z,e", "[61 62],\"{k -> 1, n -> NULL}\",\"{1, x,y}\",\"[1, NULL]\",,\"\""),
                csv.out().lines().toList());
        MainTest.Run json = run("query", "--results", results.toString(), "--format", "json", NESTED);
        assertEquals(0, json.status(), json.err());
        JsonNode row = new ObjectMapper().readTree(json.out());
        assertEquals("{\"b\":\"YWI=\",\"m\":{\"k\":1,\"n\":null},\"s\":{\"a\":1,\"b\":\"x,y\"},\"a\":[1,null],\"z\":null,\"e\":\"\"}", row.toString());
        // two columns of one name (a join's), or of names differing in case: all kept, nulls too
        MainTest.Run twice = run("query", "--results", results.toString(), "--format", "json",
                "SELECT 1 AS a, CAST(NULL AS INT) AS a, 2 AS A");
        assertEquals(0, twice.status(), twice.err());
        assertEquals("{\"a\":1,\"a\":null,\"A\":2}\n", twice.out());
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

    private static final String AWKWARD = "SELECT 'a\"b' AS `x,y`, 'l1\\nl2' AS n, 'c\\rd' AS r, repeat('z', 100) AS long";

    @Test
    void csvQuotesWhatNeedsItAndTheTableEscapesLineBreaksAndCutsLongCells() {
        MainTest.Run csv = run("query", "--results", results.toString(), "--format", "csv", AWKWARD);
        assertEquals(0, csv.status(), csv.err());
        // RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled; the header too
        assertEquals("\"x,y\",n,r,long\n\"a\"\"b\",\"l1\nl2\",\"c\rd\"," + "z".repeat(100) + "\n", csv.out());
        MainTest.Run table = run("query", "--results", results.toString(), AWKWARD);
        assertEquals(0, table.status(), table.err());
        // as Spark's show(): a line break is written as \n, so a row stays one line; a cell past 80 characters is cut to 77 and "..."
        assertEquals("x,y | n      | r    | long\n"
                + "----+--------+------+-" + "-".repeat(80) + "\n"
                + "a\"b | l1\\nl2 | c\\rd | " + "z".repeat(77) + "...\n"
                + "(1 row)\n", table.out());
    }

    @Test
    void anErrorPastTheFirstMibOfCsvCutsTheOutputShortWithExitTwo() {
        // two partitions, 0..1249 and 1250..2499: the first (1.26 MB of CSV) is printed before the second fails
        MainTest.Run r = run("query", "--results", results.toString(), "--format", "csv",
                "SELECT CASE WHEN id < 2499 THEN id ELSE raise_error('row 2499') END AS id, repeat('x', 1000) AS pad"
                        + " FROM range(0, 2500, 1, 2)");
        assertEquals(2, r.status());
        StringBuilder expected = new StringBuilder("id,pad\n");
        for (int i = 0; i < 1250; i++) {
            expected.append(i).append(',').append("x".repeat(1000)).append('\n');
        }
        assertEquals(expected.toString(), r.out());
        assertEquals("error: query failed: [USER_RAISED_EXCEPTION] row 2499.\n", r.err());
    }

    @Test
    void allowWritesRunsAStatementThatIsOtherwiseRefused() {
        String sql = "CREATE TEMPORARY VIEW v AS SELECT 1 AS one; SELECT * FROM v";
        MainTest.Run refused = run("query", "--results", results.toString(), "--format", "csv", sql);
        assertEquals(2, refused.status());
        assertEquals("", refused.out());
        assertEquals("error: statement 1 of 2 (CREATE TEMPORARY VIEW v AS SELECT 1 AS one): query only reads, and this"
                + " statement writes or changes state (Spark plans it as CreateViewCommand); nothing was run. Use SELECT"
                + " (or WITH, VALUES, TABLE, DESCRIBE, SHOW TABLES/VIEWS/COLUMNS/FUNCTIONS, EXPLAIN) over the results, or pass --allow-writes to run it"
                + " as Spark would. The statements after it were not run.\n", refused.err());
        MainTest.Run allowed = run("query", "--results", results.toString(), "--format", "csv", "--allow-writes", sql);
        assertEquals(0, allowed.status(), allowed.err());
        // the view's creation has no columns and no rows (an empty header line), then a blank line and the view
        assertEquals("\n\none\n1\n", allowed.out());
        assertEquals("", allowed.err());
    }

    @Test
    void unknownTableGivesSparksMessageAndExitTwo() {
        refused("SELECT * FROM nosuch", "error: query failed: no table or view named `nosuch` (line 1, position 14)."
                + " The tables are: activation_norms, blocks, calibration, layers.\n");
    }

    /** The query exits 2 with this message on standard error and nothing on standard output. */
    private static void refused(String sql, String expectedErr) {
        MainTest.Run r = run("query", "--results", results.toString(), sql);
        assertEquals(2, r.status());
        assertEquals("", r.out());
        assertEquals(expectedErr, r.err());
    }

    /**
     * A statement nested thousands deep overflows the stack of Spark's parser: said as what to change
     * (was: "Spark refused the options: java.lang.StackOverflowError", then a false "interrupted").
     */
    @Test
    void aStatementNestedTooDeeplyForTheStackSaysWhatToChange() {
        String deep = "SELECT " + "(".repeat(20_000) + "1" + ")".repeat(20_000);
        refused(deep, "error: the query command ran out of the driver thread's stack (the JVM's StackOverflowError), as a"
                + " statement or expression nested thousands deep makes it; simplify it, or give the driver a larger stack:"
                + " --driver-java-options -Xss64m\n");
    }

    @Test
    void aDepthTableOfARunWithoutThemSaysWhy() {
        refused("SELECT * FROM outlier_features", "error: query failed: no table or view named `outlier_features` (line 1,"
                + " position 14). It is a depth table, which a run with --no-depth leaves out. The tables are:"
                + " activation_norms, blocks, calibration, layers.\n");
        MainTest.Run blocks = run("query", "--results", results.toString(), "--format", "csv",
                "SELECT block, block_influence, massive, sparsity_allocated FROM blocks");
        assertEquals(0, blocks.status(), blocks.err());
        // lm_head needs every block's output, so stage one ran all four
        assertEquals(List.of("block,block_influence,massive,sparsity_allocated", "0,,,0.5", "1,,,0.5", "2,,,0.5", "3,,,0.5"),
                blocks.out().lines().toList());
    }

    @Test
    void aDirectoryThatIsNotAResultsDirectoryIsRefused() {
        MainTest.Run r = run("query", "--results", tmp.toString(), "SELECT 1");
        assertEquals(2, r.status());
        assertEquals("error: " + tmp + " is not a layerscope results directory (expected run.json and layers.parquet;"
                + " give the --out directory of a sweep or layer job)\n", r.err());
    }

    /** query with standard input (not a terminal) in place of System.in, as a pipe gives it. */
    static MainTest.Run withStdin(String stdin, String... args) {
        java.io.InputStream before = System.in;
        System.setIn(new java.io.ByteArrayInputStream(stdin.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        try {
            return run(args);
        } finally {
            System.setIn(before);
        }
    }

    @Test
    void withoutSqlTheShellRunsStatementsFromStandardInputOverOneSession() {
        MainTest.Run r = withStdin("""
                .tables
                SELECT count(*) AS n FROM layers;
                SELECT layer FROM layers
                  WHERE kind = 'k_proj'; SELECT ';' AS semi;
                .format csv
                SELECT nope FROM layers;
                .schema calibration
                .format yaml
                .history
                -- the end of the input ends a statement without a semicolon
                SELECT 2 AS two
                """, "query", "--results", results.toString());
        // piped, each output (a result, a command's) is a blank line after the last, and an error names its
        // statement; a failed statement adds no gap
        assertEquals(List.of("activation_norms", "blocks", "calibration", "layers", "", "n", "-", "3", "(1 row)", "",
                "layer", "-------------------------------", "model.layers.0.self_attn.k_proj", "(1 row)", "",
                "semi", "----", ";", "(1 row)", "",
                "sample INT", "doc INT", "start INT", "tokens ARRAY<INT>", "run_id STRING", "",
                "1  SELECT count(*) AS n FROM layers", "2  SELECT layer FROM layers WHERE kind = 'k_proj'",
                "3  SELECT ';' AS semi", "4  SELECT nope FROM layers", "",
                "two", "2"), r.out().lines().toList());
        List<String> errors = r.err().lines().toList();
        assertEquals(2, errors.size(), r.err());
        assertTrue(errors.get(0).startsWith("error: statement 4 (SELECT nope FROM layers): query failed:"
                + " [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `nope` cannot"
                + " be resolved."), errors.get(0));
        assertEquals("error: .format takes one of table, csv, json (it stays csv)", errors.get(1));
        // piped input with a failed statement: status 2, so a script sees it
        assertEquals(2, r.status());
    }

    @Test
    void theShellStopsAtQuitAndExitsZeroWhenAllRan() {
        MainTest.Run r = withStdin(".help\n.quit\nSELECT 1;\n", "query", "--results", results.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("SQL statements end with ; and may span lines."), r.out());
        assertTrue(r.out().contains(".schema TABLE"), r.out());
        assertTrue(r.out().strip().endsWith("leave (so does the end of the input, Ctrl-D)"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void severalStatementsInOneArgumentOrFilePrintEachResult(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        MainTest.Run r = run("query", "--results", results.toString(), "--format", "csv",
                "SELECT count(*) AS n FROM calibration; SELECT 'a;b' AS s;");
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of("n", "4", "", "s", "a;b"), r.out().lines().toList());
        Path file = Files.writeString(dir.resolve("q.sql"), "-- two statements\nSELECT 1 AS one;\n\nSELECT 2 AS two\n");
        MainTest.Run f = run("query", "--results", results.toString(), "-f", file.toString());
        assertEquals(0, f.status(), f.err());
        assertEquals(List.of("one", "---", "1", "(1 row)", "", "two", "---", "2", "(1 row)"), f.out().lines().toList());
    }

    @Test
    void theFirstFailingStatementEndsTheRun() {
        MainTest.Run r = run("query", "--results", results.toString(), "--format", "csv",
                "SELECT 1 AS one; SELECT * FROM nosuch; SELECT 3 AS three");
        assertEquals(2, r.status());
        assertEquals(List.of("one", "1", ""), r.out().lines().toList());
        assertEquals("error: statement 2 of 3 (SELECT * FROM nosuch): query failed: no table or view named `nosuch`"
                + " (line 1, position 14). The tables are: activation_norms, blocks, calibration, layers. The statements"
                + " after it were not run.\n", r.err());
    }

    @Test
    void badSqlSourcesAreRefusedBeforeSparkStarts(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("q.sql"), "SELECT 1");
        MainTest.Run both = run("query", "--results", results.toString(), "-f", file.toString(), "SELECT 2");
        assertEquals(2, both.status());
        assertEquals("error: query takes its SQL either as an argument or from -f " + file + ", not both\n", both.err());
        MainTest.Run missing = run("query", "--results", results.toString(), "-f", dir.resolve("none.sql").toString());
        assertEquals("error: -f " + dir.resolve("none.sql") + ": no such file\n", missing.err());
        for (String notFile : List.of("/dev/null", dir.toString())) {
            MainTest.Run r = run("query", "--results", results.toString(), "-f", notFile);
            assertEquals(2, r.status());
            assertEquals("error: -f " + notFile + ": not a regular file (a directory, device, pipe or socket); -f takes a"
                    + " file of SQL statements\n", r.err());
        }
        Path huge = dir.resolve("huge.sql");
        try (var f = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength((64L << 20) + 1);   // sparse
        }
        MainTest.Run tooLarge = run("query", "--results", results.toString(), "-f", huge.toString());
        assertEquals("error: -f " + huge + ": 67108865 bytes, more SQL than a query takes (at most 64 MiB)\n", tooLarge.err());
        MainTest.Run empty = run("query", "--results", results.toString(), " -- nothing;\n;");
        assertEquals(2, empty.status());
        assertEquals("error: the SQL argument is no statement; give a query such as \"SELECT * FROM layers\"\n", empty.err());
        MainTest.Run write = run("query", "--results", results.toString(), "SELECT 1; DROP VIEW layers");
        assertEquals(2, write.status());
        assertTrue(write.err().startsWith("error: statement 2 of 2 (DROP VIEW layers): query only reads, and this"
                + " statement writes or changes state"), write.err());
    }
}
