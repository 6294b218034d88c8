package io.layerscope.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;
import scala.collection.Iterator;

/** Prints a query result as a table for people, CSV with a header row, or JSON Lines. */
public enum QueryOutput {
    TABLE, CSV, JSON;

    private static final int MAX_CELL = 80;

    public static QueryOutput parse(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }

    public void print(Dataset<Row> df, PrintWriter out) {
        switch (this) {
            case JSON -> df.toJSON().collectAsList().forEach(out::println);
            case CSV -> printCsv(df, out);
            case TABLE -> printTable(df, out);
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
        out.println(String.join(",", header));
        for (Row r : df.collectAsList()) {
            List<String> cells = new ArrayList<>();
            for (int i = 0; i < fields.length; i++) {
                cells.add(csvQuote(render(r.get(i))));
            }
            out.println(String.join(",", cells));
        }
    }

    private static void printTable(Dataset<Row> df, PrintWriter out) {
        StructField[] fields = df.schema().fields();
        List<String[]> rows = new ArrayList<>();
        String[] header = new String[fields.length];
        int[] width = new int[fields.length];
        for (int i = 0; i < fields.length; i++) {
            header[i] = fields[i].name();
            width[i] = header[i].length();
        }
        for (Row r : df.collectAsList()) {
            String[] cells = new String[fields.length];
            for (int i = 0; i < fields.length; i++) {
                String c = render(r.get(i));
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
        out.println("(" + rows.size() + (rows.size() == 1 ? " row)" : " rows)"));
    }

    private static String line(String[] cells, int[] width) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            b.append(i == 0 ? "" : " | ").append(String.format("%-" + width[i] + "s", cells[i]));
        }
        return b.toString().stripTrailing();
    }

    /** Arrays as [a, b, c]; nulls empty; doubles in Java's shortest round-trip form. */
    static String render(Object v) {
        if (v == null) {
            return "";
        }
        if (v instanceof scala.collection.Seq<?> seq) {
            StringBuilder b = new StringBuilder("[");
            Iterator<?> it = seq.iterator();
            while (it.hasNext()) {
                b.append(render(it.next()));
                if (it.hasNext()) {
                    b.append(", ");
                }
            }
            return b.append(']').toString();
        }
        return v.toString();
    }

    static String csvQuote(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }
}
