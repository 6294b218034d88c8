package io.layerscope.report;

import io.layerscope.plot.KindStyle;
import io.layerscope.plot.LayerSummary;
import io.layerscope.results.Column;
import io.layerscope.results.LayersTable;
import io.layerscope.results.ResultTables;
import java.util.List;
import java.util.Locale;

/**
 * The table of the report: one row per layer in the given order, one column per number a pruning
 * decision looks at first (the {@code layers} columns defined with a report display, their
 * descriptions as tooltips). Each sortable heading carries {@code data-key} (the {@code layers} column
 * name) and {@code data-type}; numeric cells carry their exact value in {@code data-sort} for the
 * page's script, and magnitudes a bar (share of the column's largest value) in {@code --bar}.
 */
final class LayerTable {
    /** The {@code layers} columns the table shows, after the layer's identity: those with a report display. */
    private static final List<Column<LayersTable.Source>> NUMBERS = ResultTables.LAYERS.columns().stream()
            .filter(c -> c.display() != null).toList();

    private LayerTable() {
    }

    /**
     * The table element. {@code slugs} are the layers' unique fragment names, in the order of
     * {@code layers}; rows link to {@code #picture-<slug>} when the layer has a picture.
     */
    static String render(List<ReportedLayer> layers, List<String> slugs) {
        // columns no layer has a value in (the drift of a dense run) are left out
        List<Column<LayersTable.Source>> numbers = NUMBERS.stream().filter(c -> layers.stream()
                .anyMatch(l -> Double.isFinite(l.stats().value(c.name())))).toList();
        boolean pictures = layers.stream().anyMatch(l -> l.picture() != null);
        int headBlock = 1 + layers.stream().mapToInt(l -> l.stats().block()).max().orElse(-1);
        double[] columnMax = new double[numbers.size()];
        for (int c = 0; c < numbers.size(); c++) {
            String name = numbers.get(c).name();
            columnMax[c] = layers.stream().mapToDouble(l -> l.stats().value(name))
                    .filter(Double::isFinite).max().orElse(0);
        }
        StringBuilder b = new StringBuilder();
        b.append("<table id=\"layer-table\">\n<thead><tr>");
        heading(b, "layer", "layer", "text", "layer: full module name");
        heading(b, "block", "block", "number", "block: decoder block index (lm_head after the last)");
        heading(b, "kind", "kind", "text", "kind: q_proj \u2026 down_proj, lm_head");
        heading(b, "weights", "shape", "number", "weight shape, out_features \u00d7 in_features (sorts by the number of weights)");
        for (Column<?> c : numbers) {
            heading(b, c.name(), c.display().label(), "number", c.name() + ": " + c.description());
        }
        if (pictures) {
            b.append("<th scope=\"col\" class=\"link\">picture</th>");
        }
        b.append("</tr></thead>\n<tbody>\n");
        for (int i = 0; i < layers.size(); i++) {
            row(b, numbers, layers.get(i), slugs.get(i), headBlock, columnMax, pictures);
        }
        b.append("</tbody>\n</table>\n");
        return b.toString();
    }

    private static void heading(StringBuilder b, String key, String label, String type, String title) {
        b.append("<th scope=\"col\" data-key=\"").append(key).append("\" data-type=\"").append(type)
                .append("\" class=\"").append(type.equals("number") ? "num" : "text").append("\" title=\"")
                .append(Html.escape(title)).append("\">").append(Html.escape(label)).append("</th>");
    }

    private static void row(StringBuilder b, List<Column<LayersTable.Source>> numbers, ReportedLayer layer, String slug,
                            int headBlock, double[] columnMax, boolean pictures) {
        LayerSummary s = layer.stats();
        b.append("<tr id=\"").append(Html.escape(Html.id("row-", slug))).append("\">");
        b.append("<td class=\"name\">");
        if (layer.picture() != null) {
            b.append("<a href=\"#").append(Html.escape(Html.id("picture-", slug))).append("\">")
                    .append(Html.escape(s.layer())).append("</a>");
        } else {
            b.append(Html.escape(s.layer()));
        }
        b.append("</td>");
        int block = s.inBlock() ? s.block() : headBlock;
        b.append("<td class=\"num\" data-sort=\"").append(block).append("\"")
                // the tables hold lm_head's block as -1: a query for it needs that, not the word shown
                .append(s.inBlock() ? ">" + s.block() : " title=\"block = " + s.block() + " in layers.parquet\">head")
                .append("</td>");
        b.append("<td>").append(kind(s.kind())).append("</td>");
        b.append("<td class=\"num\" data-sort=\"").append((long) s.outFeatures() * s.inFeatures()).append("\">")
                .append(s.outFeatures()).append(" \u00d7 ").append(s.inFeatures()).append("</td>");
        for (int c = 0; c < numbers.size(); c++) {
            Column.Display col = numbers.get(c).display();
            double v = s.value(numbers.get(c).name());
            b.append("<td class=\"num");
            if (!Double.isFinite(v)) {
                b.append("\" data-sort=\"\">\u2014</td>");
                continue;
            }
            if (col.bar() && columnMax[c] > 0 && v > 0) {
                b.append(" bar\" style=\"--bar:").append(String.format(Locale.ROOT, "%.4f", v / columnMax[c])).append('"');
            } else {
                b.append('"');
            }
            b.append(" data-sort=\"").append(v).append("\">")
                    .append(String.format(Locale.ROOT, col.format(), v)).append("</td>");
        }
        if (pictures) {
            b.append("<td class=\"link\">");
            if (layer.picture() != null) {
                b.append("<a href=\"").append(Html.escape(Html.path(layer.picture()))).append("\">PNG</a>");
            } else {
                b.append("\u2014");
            }
            b.append("</td>");
        }
        b.append("</tr>\n");
    }

    /** The kind name after a dot of its chart colour. */
    static String kind(String kind) {
        return "<span class=\"kind\" style=\"--kind:" + KindStyle.hex(kind) + "\">" + Html.escape(kind) + "</span>";
    }
}
