package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.results.DepthTables;
import io.layerscope.results.ParquetFooterSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.spark.SparkThrowable;
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
        Map<Path, Path> seen = new LinkedHashMap<>();
        for (Path dir : dirs) {
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new LayerscopeException("results directory " + dir + " is a file, not a directory; give the --out"
                        + " directory of a sweep or layer job (the directory that holds run.json)");
            }
            if (!Files.isDirectory(dir)) {
                List<Path> aside = ResultsDirectory.movedAside(dir);
                Path name = dir.toAbsolutePath().normalize().getFileName();
                throw new LayerscopeException("results directory " + dir + " does not exist; " + (aside.isEmpty()
                        ? "give the --out directory of a sweep or layer job"
                        : aside.size() == 1 ? "a job that stopped while replacing it left the earlier results beside it in "
                                + aside.get(0).getFileName() + ": the next job with this --out puts them back, or rename"
                                + " that directory to " + name
                        : "jobs that stopped while replacing it left earlier results beside it in " + aside.stream()
                                .map(p -> p.getFileName().toString()).toList() + ": rename the one to keep to " + name));
            }
            if (!ResultsDirectory.holdsResults(dir)) {
                throw new LayerscopeException(dir + " is not a layerscope results directory (expected "
                        + RunRecord.FILE + " and layers.parquet; give the --out directory of a sweep or layer job)");
            }
            Path real = existingRealPath(dir);
            Path first = seen.putIfAbsent(real, dir);
            if (first != null) {
                throw new LayerscopeException("--results " + dir + (first.toString().equals(dir.toString()) ? " is given twice"
                        : " is the same directory as --results " + first + " (" + real + ")") + "; give each results"
                        + " directory once (its rows would be counted twice)");
            }
        }
    }

    private static Path existingRealPath(Path dir) {
        try {
            return dir.toRealPath();
        } catch (java.io.IOException e) {
            throw new LayerscopeException("cannot read results directory " + dir + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The views over {@code dirs}, none registered yet: see {@link Views#registerFor}. Checks the
     * directories and lists their tables (cheap: no Parquet file is opened).
     */
    public static Views views(SparkSession spark, List<Path> dirs) {
        checkDirectories(dirs);
        TreeSet<String> names = new TreeSet<>();
        dirs.forEach(dir -> names.addAll(tableNames(dir)));
        return new Views(spark, List.copyOf(dirs), List.copyOf(names));
    }

    /**
     * The tables of the results directories as views, each registered the first time a statement names
     * it: registering one lists its files and reads a Parquet footer for the schema, which on a busy
     * machine takes seconds per table, so a query of {@code layers} does not pay for the others. The
     * footer is read here on the driver ({@link ParquetFooterSchema}) rather than by Spark's schema
     * inference, which runs a Spark job for it.
     */
    public static final class Views {
        private final SparkSession spark;
        private final List<Path> dirs;
        private final List<String> names;
        private final java.util.Set<String> registered = new java.util.HashSet<>();

        private Views(SparkSession spark, List<Path> dirs, List<String> names) {
            this.spark = spark;
            this.dirs = dirs;
            this.names = names;
        }

        /** Every view's name, registered or not. */
        public List<String> names() {
            return names;
        }

        /**
         * Registers the views whose names occur as words in {@code sql} (a word that is not a table
         * reference only registers a view needlessly), or every view when it names none, for
         * statements such as SHOW TABLES. Returns a note for each view named that some of the runs
         * lack: their rows are absent, which must not pass for "that run found none".
         */
        public List<String> registerFor(String sql) {
            List<String> named = names.stream().filter(n -> mentions(sql, n)).toList();
            (named.isEmpty() ? names : named).forEach(this::register);
            // a name inside a string or a comment ("WHERE kind = 'super_weights'") reads no table
            String code = LITERALS_AND_COMMENTS.matcher(sql).replaceAll(" ");
            List<String> notes = new ArrayList<>();
            named.stream().filter(n -> mentions(code, n)).forEach(n -> absentFrom(n).ifPresent(notes::add));
            return notes;
        }

        /** Whether {@code sql} has {@code name} as a word of its own, in any case. */
        private static boolean mentions(String sql, String name) {
            return java.util.regex.Pattern.compile("(?i)(?<![A-Za-z0-9_])" + java.util.regex.Pattern.quote(name)
                    + "(?![A-Za-z0-9_])").matcher(sql).find();
        }

        /** SQL's string literals and comments, which name no table. */
        private static final java.util.regex.Pattern LITERALS_AND_COMMENTS = java.util.regex.Pattern.compile(
                "'(?:[^'\\\\]|\\\\.|'')*'|\"(?:[^\"\\\\]|\\\\.)*\"|--[^\\n]*|/\\*(?s:.*?)\\*/");

        /** Which runs lack the table {@code name}, said as a note (empty when none does). */
        Optional<String> absentFrom(String name) {
            List<String> runs = runLabels(dirs);
            List<String> without = new ArrayList<>();
            for (int i = 0; i < dirs.size(); i++) {
                if (!Files.isDirectory(dirs.get(i).resolve(name + ".parquet"))) {
                    without.add(runs.get(i));
                }
            }
            if (without.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(name + " has no rows of " + String.join(", ", without) + ": " + (without.size() == 1
                    ? "that run has" : "those runs have") + " no " + name + " table" + (DEPTH_ONLY.contains(name)
                    ? " (a depth table, which a run with --no-depth leaves out)" : ""));
        }

        /** Registers one view: the table of every directory that has it, a union tagged by run when several. */
        public void register(String name) {
            if (registered.contains(name)) {
                return;
            }
            Dataset<Row> all = null;
            List<String> runs = runLabels(dirs);
            for (int i = 0; i < dirs.size(); i++) {
                Path dir = dirs.get(i);
                if (!Files.isDirectory(dir.resolve(name + ".parquet"))) {
                    continue;
                }
                Path table = dir.resolve(name + ".parquet");
                var reader = spark.read();
                ParquetFooterSchema.of(table, spark.sessionState().newHadoopConf()).ifPresent(reader::schema);
                Dataset<Row> df = reader.parquet(table.toString());
                if (dirs.size() > 1) {
                    df = df.withColumn("run", functions.lit(runs.get(i)));
                }
                all = all == null ? df : all.unionByName(df, true);
            }
            all.createOrReplaceTempView(name);
            registered.add(name);
        }
    }

    /**
     * What the {@code run} column calls each directory: its name, or where two share a name as many of
     * their last path components as tell them apart ({@code a/demo}, {@code b/demo}).
     */
    static List<String> runLabels(List<Path> dirs) {
        List<Path> paths = dirs.stream().map(d -> d.toAbsolutePath().normalize()).toList();
        int[] kept = new int[paths.size()];
        java.util.Arrays.fill(kept, 1);
        while (true) {
            List<String> labels = new ArrayList<>();
            for (int i = 0; i < paths.size(); i++) {
                Path p = paths.get(i);
                int n = p.getNameCount();
                labels.add(n == 0 ? p.toString() : p.subpath(n - kept[i], n).toString());
            }
            boolean clash = false;
            for (int i = 0; i < labels.size(); i++) {
                if (java.util.Collections.frequency(labels, labels.get(i)) > 1 && kept[i] < paths.get(i).getNameCount()) {
                    kept[i]++;
                    clash = true;
                }
            }
            if (!clash) {
                return labels;
            }
        }
    }

    /** A table's directory name without .parquet: one a view can be named by, unquoted, in SQL. */
    private static final java.util.regex.Pattern TABLE_NAME = java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /**
     * The tables of {@code dir}: its directories named NAME.parquet, as Spark writes them. A file of
     * that name, or a name no SQL view can have ({@code a b.parquet}), is something else and left out.
     */
    static List<String> tableNames(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            TreeSet<String> names = new TreeSet<>();
            s.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".parquet"))
                    .map(n -> n.substring(0, n.length() - ".parquet".length()))
                    .filter(n -> TABLE_NAME.matcher(n).matches())
                    .forEach(names::add);
            return new ArrayList<>(names);
        } catch (java.io.IOException e) {
            throw new LayerscopeException("cannot list " + dir + " (" + e.getMessage() + ")", e);
        }
    }

    /** The tables a run with --no-depth does not write (its blocks table holds the pruning columns only). */
    private static final java.util.Set<String> DEPTH_ONLY = java.util.Set.of(DepthTables.BLOCK_DISTANCES.name(),
            DepthTables.SUPER_WEIGHTS.name(), DepthTables.OUTLIER_FEATURES.name());

    /**
     * Spark's message without the logical plan it appends (a user cannot act on it); an unknown
     * table in one sentence instead of Spark's paragraph about catalogs and DROP TABLE.
     */
    private static String describe(AnalysisException a) {
        String simple = a.getSimpleMessage().strip();
        if ("TABLE_OR_VIEW_NOT_FOUND".equals(a.getCondition())) {
            java.util.regex.Matcher at = java.util.regex.Pattern.compile("; line (\\d+) pos (\\d+)$").matcher(simple);
            String name = a.getMessageParameters().getOrDefault("relationName", "?");
            return "no table or view named " + name
                    + (at.find() ? " (line " + at.group(1) + ", position " + at.group(2) + ")" : "") + "."
                    + (DEPTH_ONLY.contains(name.replace("`", "")) ? " It is a depth table, which a run with --no-depth"
                    + " leaves out." : "");
        }
        return simple.endsWith(".") ? simple : simple + ".";
    }

    /**
     * A failure while the tables are read or the result is computed, as a user error, or empty when
     * it is not one: a damaged Parquet file (Spark's FAILED_READ_FILE, naming the file) and SQL
     * errors of the data (SQLSTATE classes 21, 22: division by zero under ANSI mode, a bad CAST, an
     * overflow; P0: raise_error). Spark wraps them in a job failure whose message holds stack traces;
     * this takes the original error's message, without the SQL excerpt Spark draws under it.
     */
    public static Optional<LayerscopeException> userError(Throwable e) {
        SparkThrowable sqlError = null;
        SparkThrowable readError = null;
        Throwable deepest = e;
        for (Throwable t : io.layerscope.Failures.causes(e)) {
            deepest = t;
            if (t instanceof SparkThrowable st && st.getCondition() != null) {
                String state = st.getSqlState() == null ? "" : st.getSqlState();
                if (st.getCondition().startsWith("FAILED_READ_FILE") && readError == null) {
                    readError = st;
                } else if (state.startsWith("21") || state.startsWith("22") || state.startsWith("P0")) {
                    sqlError = st;
                }
            }
        }
        if (sqlError != null) {
            return Optional.of(new LayerscopeException(describeRuntime((Throwable) sqlError), e));
        }
        if (readError != null) {
            String url = readError.getMessageParameters().getOrDefault("path", "?");
            String file = localPath(url);
            // Hadoop's local reads fail any open (permission, open files) as FileNotFoundException: a file still there is not gone
            boolean gone = deepest instanceof java.io.FileNotFoundException && (file.equals(url) || !Files.exists(Path.of(file)));
            if (gone) {
                // a complete results directory loses no file: it was replaced (--overwrite) or removed meanwhile
                return Optional.of(new LayerscopeException("cannot read " + file + ": it is gone since the query"
                        + " listed the tables; its results directory was replaced or removed while the query ran (by a"
                        + " job with --overwrite?); run the query again", e));
            }
            String reason = deepest instanceof org.apache.hadoop.fs.ChecksumException
                    ? "its checksum does not match its .crc file"
                    : deepest == readError ? "not a readable Parquet file"
                    : firstLine(deepest.getMessage()).replace(url, "it").replace(file, "it")
                            .replace(url.replace("file:///", "file:/"), "it");
            return Optional.of(new LayerscopeException("cannot read " + file + " (" + reason + "): the results are damaged"
                    + " (a file truncated or changed after it was written); run the job again into a new --out, or leave"
                    + " that directory out of --results", e));
        }
        return Optional.empty();
    }

    /** "query failed at line 1, position 8: [DIVIDE_BY_ZERO] Division by zero. ..." */
    private static String describeRuntime(Throwable t) {
        String m = t.getMessage() == null ? "" : t.getMessage();
        String where = "";
        java.util.regex.Matcher at = java.util.regex.Pattern.compile("\\R== SQL \\(line (\\d+), position (\\d+)\\) ==").matcher(m);
        if (at.find()) {
            where = " at line " + at.group(1) + ", position " + at.group(2);
            m = m.substring(0, at.start());
        } else {
            int sql = m.indexOf("== SQL");
            m = sql < 0 ? m : m.substring(0, sql);
        }
        m = m.replaceAll("\\s*SQLSTATE: \\w+\\s*$", "").strip();
        return "query failed" + where + ": " + (m.endsWith(".") ? m : m + ".");
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("").strip();
    }

    /** file:///tmp/r/x.parquet as /tmp/r/x.parquet; anything else as given. */
    private static String localPath(String url) {
        try {
            java.net.URI uri = java.net.URI.create(url);
            return "file".equals(uri.getScheme()) ? Path.of(uri).toString() : url;
        } catch (RuntimeException e) {
            return url;
        }
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
