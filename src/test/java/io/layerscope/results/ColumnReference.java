package io.layerscope.results;

import java.util.List;

/**
 * The column reference of docs/METRICS.md, generated from the table definitions (a test keeps the
 * document in step: it fails, naming the command that rewrites the section, when they differ).
 */
public final class ColumnReference {
    public static final String BEGIN = "<!-- columns:begin -->";
    public static final String END = "<!-- columns:end -->";

    private ColumnReference() {
    }

    /** One Markdown table per result table, its columns grouped by section. */
    public static String markdown() {
        StringBuilder b = new StringBuilder();
        for (Table<?> t : ResultTables.ALL) {
            table(b, t);
        }
        return b.toString();
    }

    private static <T> void table(StringBuilder b, Table<T> t) {
        b.append("\n### `").append(t.name()).append("`: one row per ").append(t.rowDescription()).append("\n");
        for (Column.Section section : Column.Section.values()) {
            List<Column<T>> columns = t.columns(section);
            if (columns.isEmpty()) {
                continue;
            }
            b.append("\n").append(section.title()).append(":\n\n| column | type | description |\n|---|---|---|\n");
            for (Column<T> c : columns) {
                b.append("| `").append(c.name()).append("` | ").append(c.type().simpleString())
                        .append(c.nullable() ? ", may be null" : "").append(" | ")
                        .append(c.description().replace("|", "\\|")).append(" |\n");
            }
        }
        b.append("\nLast: `").append(Table.RUN_ID).append("` (string): ").append(Table.RUN_ID_DESCRIPTION).append(".\n");
    }

    /** {@code document} with the text between the markers replaced by the generated reference. */
    public static String update(String document) {
        int begin = document.indexOf(BEGIN);
        int end = document.indexOf(END);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("the document has no " + BEGIN + " ... " + END + " section");
        }
        return document.substring(0, begin + BEGIN.length()) + "\n" + markdown() + "\n" + document.substring(end);
    }
}
