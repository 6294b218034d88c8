package io.layerscope.cli;

import io.layerscope.LayerscopeException;
import io.layerscope.spark.ResultsQuery;
import io.layerscope.spark.SparkSessions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code query --results DIR [--results DIR2] [--format table|csv|json] ["SQL; ..." | -f FILE]}; no SQL: a shell. */
@Command(name = "query", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Run Spark SQL over the Parquet results of one or more runs.",
            "Each table of a results directory is a view under its own name (layers, activation_norms, blocks,"
                + " calibration, block_distances, super_weights, outlier_features: SHOW TABLES lists them);"
                + " with several --results the views are unions with a `run` column naming each directory (by as"
                + " much of its path as tells it from the others).",
            "SQL holds one statement or several separated by semicolons (so does -f FILE); each result is printed in"
                + " turn, and the first statement that fails ends the run. Without SQL or -f, query reads statements"
                + " from standard input over one Spark session: an interactive shell on a terminal (.help lists its"
                + " commands), or a script piped in. Only results go to standard output.",
            "The query only reads: a statement that writes or changes state (INSERT, CREATE, DROP, ALTER, CACHE, SET,"
                + " ADD JAR, ...) is refused unless --allow-writes is given."},
        footer = {"", "Examples:",
            "  ./submit.sh query --results results/demo \\",
            "      \"SELECT layer, wanda_mean FROM layers ORDER BY wanda_mean DESC LIMIT 5\"",
            "  ./submit.sh query --results results/demo -f queries.sql",
            "  ./submit.sh query --results results/demo"})
public final class QueryCommand implements Callable<Integer> {
    @Option(names = "--results", required = true, paramLabel = "DIR", description = "A results directory (repeatable).")
    List<Path> results;

    /** What bash completion offers for --format. */
    static final class FormatNames extends java.util.ArrayList<String> {
        FormatNames() {
            super(java.util.Arrays.stream(QueryOutput.values()).map(f -> f.name().toLowerCase(java.util.Locale.ROOT)).toList());
        }
    }

    @Option(names = "--format", defaultValue = "table", paramLabel = "FORMAT", completionCandidates = FormatNames.class,
            description = "table (for people), csv (header row first) or json (JSON Lines). Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = "--allow-writes",
            description = {"Run statements that write files or change Spark's state (INSERT, INSERT OVERWRITE DIRECTORY,"
                + " CREATE TABLE ... LOCATION, DROP, CACHE, ADD JAR, SET, TRANSFORM ... USING, reflect(), ...) as Spark"
                + " would. They can change the results directories and any path they name. Tables created without a"
                + " LOCATION go to a temporary warehouse deleted at exit. Without it, such statements are refused and"
                + " nothing is run."})
    boolean allowWrites;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE",
            description = "Run the statements of FILE (UTF-8, separated by semicolons) instead of SQL.")
    Path file;

    @Parameters(index = "0", arity = "0..1", paramLabel = "SQL",
            description = "The statement, or several separated by semicolons. Without it (and without -f): a shell.")
    String sql;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        QueryOutput output = parseFormat(format);
        List<String> statements = statements();
        ResultsQuery.checkDirectories(results);
        long t0 = System.nanoTime();
        SparkSession spark = SparkSessions.forQueries("layerscope query");
        long t1 = System.nanoTime();
        QuerySession session = new QuerySession(spark, ResultsQuery.views(spark, results), allowWrites);
        Main.log(spec, String.format("query: JVM up %.1f s before the Spark session, which started in %.1f s",
                java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() / 1e3 - (t1 - t0) / 1e9,
                (t1 - t0) / 1e9));
        var out = spec.commandLine().getOut();
        var err = spec.commandLine().getErr();
        if (statements == null) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            // System.console() is there only when both standard input and output are a terminal
            int failed = new SqlShell(session, output, out, err, System.console() != null).run(in);
            return failed == 0 || System.console() != null ? 0 : Main.EXIT_BAD_INPUT;
        }
        for (int i = 0; i < statements.size(); i++) {
            if (i > 0 && output != QueryOutput.JSON) {
                out.println();   // results of several statements apart; JSON Lines stay one object per line
            }
            try {
                long ts = System.nanoTime();
                session.run(statements.get(i), output, out, err);
                Main.log(spec, String.format("query: statement %d ran in %.1f s", i + 1, (System.nanoTime() - ts) / 1e9));
            } catch (LayerscopeException e) {
                String m = e.getMessage();
                // a message without its full stop (the read-only refusal's) gets one before the next sentence
                throw statements.size() == 1 ? e : new LayerscopeException("statement " + (i + 1) + " of "
                        + statements.size() + " (" + abbreviated(statements.get(i)) + "): " + m
                        + (i + 1 < statements.size() ? (m.endsWith(".") ? "" : ".") + " The statements after it were not run."
                        : ""), e);
            }
        }
        return 0;
    }

    /** The most -f reads: far more SQL than anyone writes, far less than a Java string holds. */
    static final long MAX_SQL_BYTES = 64L << 20;

    /** The statements of SQL or -f FILE, or null for the shell. */
    private List<String> statements() throws IOException {
        if (sql != null && file != null) {
            throw new LayerscopeException("query takes its SQL either as an argument or from -f " + file + ", not both");
        }
        String text = sql;
        if (file != null) {
            if (!Files.exists(file)) {
                throw new LayerscopeException("-f " + file + ": no such file");
            }
            if (io.layerscope.FileKinds.existsButNotRegular(file)) {
                throw new LayerscopeException("-f " + file + ": " + io.layerscope.FileKinds.NOT_REGULAR
                        + "; -f takes a file of SQL statements");
            }
            long size = Files.size(file);
            if (size > MAX_SQL_BYTES) {
                throw new LayerscopeException("-f " + file + ": " + size + " bytes, more SQL than a query takes"
                        + " (at most " + (MAX_SQL_BYTES >> 20) + " MiB)");
            }
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new LayerscopeException("-f " + file + " is not UTF-8 text", e);
            }
        }
        if (text == null) {
            return null;
        }
        List<String> all = SqlStatements.split(text).all();
        if (all.isEmpty()) {
            throw new LayerscopeException((file != null ? "-f " + file + " holds" : "the SQL argument is") + " no statement;"
                    + " give a query such as \"SELECT * FROM layers\"");
        }
        return all;
    }

    static String abbreviated(String statement) {
        String one = statement.replaceAll("\\s+", " ");
        return one.length() <= 60 ? one : one.substring(0, 57) + "...";
    }

    private static QueryOutput parseFormat(String f) {
        try {
            return QueryOutput.parse(f);
        } catch (IllegalArgumentException e) {
            throw new LayerscopeException("--format " + f + " is not one of table, csv, json");
        }
    }
}
