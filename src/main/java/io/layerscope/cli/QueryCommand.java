package io.layerscope.cli;

import io.layerscope.LayerscopeException;
import io.layerscope.spark.ReadOnlySql;
import io.layerscope.spark.ResultsQuery;
import io.layerscope.spark.SparkSessions;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code query --results DIR [--results DIR2] [--format table|csv|json] "SQL"}. */
@Command(name = "query", mixinStandardHelpOptions = true,
        description = {"Run Spark SQL over the Parquet results of one or more runs.",
            "Each table of a results directory is a view under its own name (layers, activation_norms, calibration);"
                + " with several --results the views are unions with a `run` column naming each directory.",
            "Only the result goes to standard output.",
            "The query only reads: a statement that writes or changes state (INSERT, CREATE, DROP, ALTER, CACHE, SET,"
                + " ADD JAR, ...) is refused unless --allow-writes is given."},
        footer = {"", "Example:", "  ./submit.sh query --results results/demo \\",
            "      \"SELECT layer, wanda_mean FROM layers ORDER BY wanda_mean DESC LIMIT 5\""})
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

    @Parameters(index = "0", paramLabel = "SQL", description = "The query.")
    String sql;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        QueryOutput output = parseFormat(format);
        ResultsQuery.checkDirectories(results);
        SparkSession spark = SparkSessions.getOrCreate("layerscope query");
        if (!allowWrites) {
            ReadOnlySql.whatItChanges(spark.sessionState().sqlParser(), sql).ifPresent(what -> {
                throw new LayerscopeException("query only reads, and this statement " + what + "; nothing was run. Use"
                        + " SELECT (or WITH, VALUES, TABLE, DESCRIBE, SHOW, EXPLAIN) over the results, or pass"
                        + " --allow-writes to run it as Spark would");
            });
        }
        try {
            List<String> views = ResultsQuery.register(spark, results);
            output.print(ResultsQuery.sql(spark, sql, views), spec.commandLine().getOut(), spec.commandLine().getErr());
        } catch (Exception e) {
            // Spark throws SparkException (checked) undeclared from Scala
            throw ResultsQuery.userError(e).map(Exception.class::cast).orElse(e);
        }
        return 0;
    }

    private static QueryOutput parseFormat(String f) {
        try {
            return QueryOutput.parse(f);
        } catch (IllegalArgumentException e) {
            throw new LayerscopeException("--format " + f + " is not one of table, csv, json");
        }
    }
}
