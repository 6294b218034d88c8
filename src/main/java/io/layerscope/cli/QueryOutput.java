package io.layerscope.cli;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;

/**
 * Prints a query result as a table for people, CSV with a header row, or JSON Lines.
 *
 * <p>Rows are streamed from Spark a partition at a time ({@link Dataset#toLocalIterator()}), so a
 * result larger than the driver's heap still prints. CSV and JSON output is held back until
 * {@link #HOLD_BACK_CHARS} characters are ready (or the result ends): an error found by then (a
 * division by zero, a damaged file) leaves standard output empty; past it, the output streams and a
 * later error cuts it short (exit status 2 says so). The table keeps the first {@link #TABLE_ROWS}
 * rows to size its columns, counts the rest, and says on standard error how many it left out.
 *
 * <p>Values, as Spark's {@code show()} prints them in the table and CSV: arrays {@code [1, 2]},
 * maps {@code {a -> 1, b -> 2}}, structs {@code {1, x}}, binary as hex bytes {@code [0A FF]}, nulls
 * inside them as {@code NULL}; a null cell is {@code NULL} in a table, and in CSV an empty field (an
 * empty string is {@code ""} there). JSON is Spark's own generator's, as
 * {@link Dataset#toJSON()} writes it: nested arrays and objects, binary in base64; but a null field
 * as null, not left out ({@link #jsonLines}).
 */
public enum QueryOutput {
    TABLE, CSV, JSON;

    /** Cells longer than this are cut in the table. */
    private static final int MAX_CELL = 80;
    /** The table's row cap: its column widths need every row it prints. */
    static final int TABLE_ROWS = 1000;
    /** CSV and JSON output held back before it is printed, so that an early error leaves none. */
    static final int HOLD_BACK_CHARS = 1 << 20;

    public static QueryOutput parse(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }

    /**
     * Each row as one JSON object, written by Spark's JSON generator as {@link Dataset#toJSON()} does,
     * but told to keep null fields (toJSON leaves them out, and a column null in every row vanished).
     * The columns are taken by position, so two of one name (a join's) are both kept.
     */
    private static Dataset<String> jsonLines(Dataset<Row> df) {
        String[] names = df.columns();
        if (names.length == 0) {
            return df.toJSON();
        }
        String[] positional = java.util.stream.IntStream.range(0, names.length).mapToObj(i -> "c" + i).toArray(String[]::new);
        Dataset<Row> byPosition = df.toDF(positional);
        org.apache.spark.sql.Column[] fields = java.util.stream.IntStream.range(0, names.length)
                .mapToObj(i -> byPosition.col(positional[i]).as(names[i])).toArray(org.apache.spark.sql.Column[]::new);
        return byPosition.select(org.apache.spark.sql.functions.to_json(org.apache.spark.sql.functions.struct(fields),
                java.util.Map.of("ignoreNullFields", "false"))).as(org.apache.spark.sql.Encoders.STRING());
    }

    /** Prints {@code df} to {@code out}; notes (rows left out of the table) go to {@code err}. */
    public void print(Dataset<Row> df, PrintWriter out, PrintWriter err) {
        switch (this) {
            case JSON -> stream(jsonLines(df).toLocalIterator(), null, out);
            case CSV -> printCsv(df, out);
            case TABLE -> printTable(df, out, err);
            default -> throw new IllegalStateException();
        }
        out.flush();
    }

    private static void printCsv(Dataset<Row> df, PrintWriter out) {
        StructField[] fields = df.schema().fields();
        List<String> header = new ArrayList<>();
        for (StructField f : fields) {
            header.add(csvQuote(f.name()));
        }
        Iterator<Row> rows = df.toLocalIterator();
        Iterator<String> lines = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public String next() {
                Row r = rows.next();
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < fields.length; i++) {
                    b.append(i == 0 ? "" : ",").append(csvCell(r.get(i)));
                }
                return b.toString();
            }
        };
        stream(lines, String.join(",", header), out);
    }

    /** Writes {@code first} (if any) and the lines, holding the first {@link #HOLD_BACK_CHARS} back. */
    static void stream(Iterator<String> lines, String first, PrintWriter out) {
        StringBuilder held = new StringBuilder();
        if (first != null) {
            held.append(first).append('\n');
        }
        boolean streaming = false;
        while (lines.hasNext()) {
            String line = lines.next();
            if (streaming) {
                out.println(line);
            } else {
                held.append(line).append('\n');
                if (held.length() >= HOLD_BACK_CHARS) {
                    out.print(held);
                    held.setLength(0);
                    streaming = true;
                }
            }
        }
        out.print(held);
    }

    private static void printTable(Dataset<Row> df, PrintWriter out, PrintWriter err) {
        StructField[] fields = df.schema().fields();
        List<String[]> rows = new ArrayList<>();
        String[] header = new String[fields.length];
        int[] width = new int[fields.length];
        for (int i = 0; i < fields.length; i++) {
            header[i] = org.apache.spark.util.SparkSchemaUtils.escapeMetaCharacters(fields[i].name());
            width[i] = header[i].length();
        }
        Iterator<Row> it = df.toLocalIterator();
        long total = 0;
        while (it.hasNext()) {
            Row r = it.next();
            total++;
            if (rows.size() == TABLE_ROWS) {
                continue;   // counted, not kept
            }
            String[] cells = new String[fields.length];
            for (int i = 0; i < fields.length; i++) {
                // a line break (\n, \r, ...) written as show() writes it, lest it break the row's line
                String c = r.isNullAt(i) ? "NULL" : org.apache.spark.util.SparkSchemaUtils.escapeMetaCharacters(render(r.get(i)));
                cells[i] = c.length() > MAX_CELL ? c.substring(0, MAX_CELL - 3) + "..." : c;
                width[i] = Math.max(width[i], cells[i].length());
            }
            rows.add(cells);
        }
        out.println(line(header, width));
        StringBuilder rule = new StringBuilder();
        for (int i = 0; i < width.length; i++) {
            rule.append(i == 0 ? "" : "-+-").append("-".repeat(width[i]));
        }
        out.println(rule);
        rows.forEach(r -> out.println(line(r, width)));
        if (total > rows.size()) {
            out.println("(first " + rows.size() + " of " + total + " rows)");
            out.flush();
            err.println("note: the table shows the first " + rows.size() + " of " + total + " rows; use --format csv or"
                    + " --format json for all of them");
            err.flush();
        } else {
            out.println("(" + total + (total == 1 ? " row)" : " rows)"));
        }
    }

    private static String line(String[] cells, int[] width) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            b.append(i == 0 ? "" : " | ").append(String.format("%-" + width[i] + "s", cells[i]));
        }
        return b.toString().stripTrailing();
    }

    /** A cell as Spark's show() prints it; a null cell empty. */
    static String render(Object v) {
        return v == null ? "" : nested(v);
    }

    private static String nested(Object v) {
        if (v == null) {
            return "NULL";
        }
        if (v instanceof byte[] bytes) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < bytes.length; i++) {
                b.append(i == 0 ? "" : " ").append(String.format("%02X", bytes[i] & 0xff));
            }
            return b.append(']').toString();
        }
        if (v instanceof scala.collection.Map<?, ?> map) {
            StringBuilder b = new StringBuilder("{");
            scala.collection.Iterator<? extends scala.Tuple2<?, ?>> it = map.iterator();
            while (it.hasNext()) {
                scala.Tuple2<?, ?> kv = it.next();
                b.append(nested(kv._1())).append(" -> ").append(nested(kv._2())).append(it.hasNext() ? ", " : "");
            }
            return b.append('}').toString();
        }
        if (v instanceof scala.collection.Seq<?> seq) {
            StringBuilder b = new StringBuilder("[");
            scala.collection.Iterator<?> it = seq.iterator();
            while (it.hasNext()) {
                b.append(nested(it.next())).append(it.hasNext() ? ", " : "");
            }
            return b.append(']').toString();
        }
        if (v instanceof Row row) {
            StringBuilder b = new StringBuilder("{");
            for (int i = 0; i < row.length(); i++) {
                b.append(i == 0 ? "" : ", ").append(nested(row.get(i)));
            }
            return b.append('}').toString();
        }
        if (v instanceof BigDecimal d) {
            return d.toPlainString();
        }
        return v.toString();
    }

    /**
     * A CSV field: a null empty, an empty string quoted ({@code ""}), as PostgreSQL's and DuckDB's
     * CSV tell them apart.
     */
    static String csvCell(Object v) {
        String s = render(v);
        return v != null && s.isEmpty() ? "\"\"" : csvQuote(s);
    }

    static String csvQuote(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }
}
