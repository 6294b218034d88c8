package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * Spark SQL over one or more results directories: every {@code <table>.parquet} becomes a view
 * named {@code <table>}. With several directories the views are unions (by column name) with a
 * {@code run} column holding each directory's name.
 */
public final class ResultsQuery {
    private ResultsQuery() {
    }

    /** Refuses a missing directory or one that is not a layerscope results directory (cheap: before Spark starts). */
    public static void checkDirectories(List<Path> dirs) {
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                throw new LayerscopeException("results directory " + dir + " does not exist; give the --out directory"
                        + " of a sweep or layer job");
            }
            if (!Files.isRegularFile(dir.resolve(RunRecord.FILE)) || !Files.isDirectory(dir.resolve("layers.parquet"))) {
                throw new LayerscopeException(dir + " is not a layerscope results directory (expected "
                        + RunRecord.FILE + " and layers.parquet; give the --out directory of a sweep or layer job)");
            }
        }
    }

    /** Registers the views and returns their names. */
    public static List<String> register(SparkSession spark, List<Path> dirs) {
        checkDirectories(dirs);
        Map<String, List<Dataset<Row>>> tables = new LinkedHashMap<>();
        for (Path dir : dirs) {
            String run = dir.toAbsolutePath().normalize().getFileName().toString();
            for (String table : tableNames(dir)) {
                Dataset<Row> df = spark.read().parquet(dir.resolve(table + ".parquet").toString());
                if (dirs.size() > 1) {
                    df = df.withColumn("run", functions.lit(run));
                }
                tables.computeIfAbsent(table, t -> new ArrayList<>()).add(df);
            }
        }
        tables.forEach((name, parts) -> {
            Dataset<Row> all = parts.get(0);
            for (int i = 1; i < parts.size(); i++) {
                all = all.unionByName(parts.get(i), true);
            }
            all.createOrReplaceTempView(name);
        });
        return new ArrayList<>(tables.keySet());
    }

    private static List<String> tableNames(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            TreeSet<String> names = new TreeSet<>();
            s.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".parquet"))
                    .forEach(n -> names.add(n.substring(0, n.length() - ".parquet".length())));
            return new ArrayList<>(names);
        } catch (java.io.IOException e) {
            throw new LayerscopeException("cannot list " + dir + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Spark's message without the logical plan it appends (a user cannot act on it); an unknown
     * table in one sentence instead of Spark's paragraph about catalogs and DROP TABLE.
     */
    private static String describe(AnalysisException a) {
        String simple = a.getSimpleMessage().strip();
        if ("TABLE_OR_VIEW_NOT_FOUND".equals(a.getCondition())) {
            java.util.regex.Matcher at = java.util.regex.Pattern.compile("; line (\\d+) pos (\\d+)$").matcher(simple);
            return "no table or view named " + a.getMessageParameters().getOrDefault("relationName", "?")
                    + (at.find() ? " (line " + at.group(1) + ", position " + at.group(2) + ")" : "") + ".";
        }
        return simple.endsWith(".") ? simple : simple + ".";
    }

    /** Runs the SQL; Spark's analysis errors (unknown table or column, syntax) become user errors. */
    public static Dataset<Row> sql(SparkSession spark, String sql, List<String> views) {
        try {
            Dataset<Row> df = spark.sql(sql);
            df.schema();
            return df;
        } catch (Exception e) {
            // Scala throws AnalysisException (and its ParseException) undeclared.
            if (!(e instanceof AnalysisException a)) {
                throw e;
            }
            throw new LayerscopeException("query failed: " + describe(a) + "\nThe tables are: " + String.join(", ", views) + ".", e);
        }
    }
}
