package io.layerscope.cli;

import io.layerscope.LayerscopeException;
import io.layerscope.spark.ReadOnlySql;
import io.layerscope.spark.ResultsQuery;
import java.io.PrintWriter;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;

/**
 * One Spark session with the results directories' tables as views, running statements one at a
 * time: the check that a statement only reads (unless writes are allowed), then Spark, then the
 * printed result. Every failure the user can act on comes out as a {@link LayerscopeException}.
 */
final class QuerySession {
    private final SparkSession spark;
    private final ResultsQuery.Views views;
    private final boolean allowWrites;

    QuerySession(SparkSession spark, ResultsQuery.Views views, boolean allowWrites) {
        this.spark = spark;
        this.views = views;
        this.allowWrites = allowWrites;
    }

    List<String> views() {
        return views.names();
    }

    /** Runs one statement and prints its result in {@code format}. */
    void run(String sql, QueryOutput format, PrintWriter out, PrintWriter err) {
        if (!allowWrites) {
            ReadOnlySql.whatItChanges(spark.sessionState().sqlParser(), sql).ifPresent(what -> {
                throw new LayerscopeException("query only reads, and this statement " + what + "; nothing was run. Use"
                        + " SELECT (or WITH, VALUES, TABLE, DESCRIBE, SHOW TABLES/VIEWS/COLUMNS/FUNCTIONS, EXPLAIN) over the results, or pass"
                        + " --allow-writes to run it as Spark would");
            });
        }
        try {
            views.registerFor(sql).forEach(note -> err.println("note: " + note));
            format.print(ResultsQuery.sql(spark, sql, views.names()), out, err);
        } catch (LayerscopeException e) {
            throw e;
        } catch (RuntimeException e) {
            throw ResultsQuery.userError(e).map(RuntimeException.class::cast).orElse(e);
        } catch (Exception e) {
            // Spark throws SparkException (checked) undeclared from Scala
            throw ResultsQuery.userError(e).map(RuntimeException.class::cast).orElseThrow(() -> new IllegalStateException(e));
        }
    }

    /** The columns of a view with their Spark SQL types, one per line (the shell's .schema). */
    void printSchema(String view, PrintWriter out) {
        if (!views.names().contains(view)) {
            throw new LayerscopeException("no table named " + view + "; the tables are " + String.join(", ", views.names()));
        }
        Dataset<Row> df;
        try {
            views.register(view);
            df = spark.table(view);
        } catch (RuntimeException e) {
            throw ResultsQuery.userError(e).map(RuntimeException.class::cast).orElse(e);
        }
        for (StructField f : df.schema().fields()) {
            out.println(f.name() + " " + f.dataType().sql());
        }
        out.flush();
    }
}
