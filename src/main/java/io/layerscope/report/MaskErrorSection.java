package io.layerscope.report;

import io.layerscope.report.MaskErrorMeans.Group;
import io.layerscope.report.MaskErrorMeans.Mask;
import io.layerscope.results.Column;
import io.layerscope.results.ResultTables;
import java.util.List;
import java.util.Locale;

/**
 * The report's section on the output error of each mask (docs/METRICS.md, the Gram matrix and the
 * output error of each mask): two tables, the mean error of every mask by layer kind and by decoder
 * block, the smallest mean of each row marked ({@code td.least}) and named in the last column.
 */
final class MaskErrorSection {
    static final String ID = "mask-errors";

    private MaskErrorSection() {
    }

    /** The section element. */
    static String render(MaskErrorMeans means) {
        StringBuilder b = new StringBuilder();
        b.append("<section id=\"").append(ID).append("\">\n<h2>Output error of each mask</h2>\n")
                .append("<p class=\"hint\">E = ||dW X||\u00b2 / ||W X||\u00b2: the share of the layer's output energy on")
                .append(" the calibration data that the mask removes (lower is better). Wanda 2:4 prunes")
                .append(" half of every group of four whatever the sparsity. Each cell is the plain mean over the row's")
                .append(" layers; the least error of a row is in bold. Definitions: <code>docs/METRICS.md</code>, section")
                .append(" \u201cThe Gram matrix and the output error of each mask\u201d.</p>\n");
        b.append("<h3>By layer kind</h3>\n");
        table(b, "mask-errors-by-kind", "kind", means.masks(), means.byKind(), true);
        b.append("<h3>By depth</h3>\n");
        table(b, "mask-errors-by-depth", "block", means.masks(), means.byDepth(), false);
        return b.append("</section>\n").toString();
    }

    private static void table(StringBuilder b, String id, String first, List<Mask> masks, List<Group> rows, boolean kinds) {
        b.append("<div class=\"table-wrap\"><table id=\"").append(id).append("\">\n<thead><tr>")
                .append("<th scope=\"col\">").append(first).append("</th>")
                .append("<th scope=\"col\" class=\"num\" title=\"layers the means cover, of the row's layers\">layers</th>");
        for (Mask m : masks) {
            b.append("<th scope=\"col\" class=\"num\" title=\"").append(Html.escape(m.column() + ": " + description(m.column())))
                    .append("\">").append(Html.escape(m.name())).append("</th>");
        }
        b.append("<th scope=\"col\">least error</th></tr></thead>\n<tbody>\n");
        for (Group g : rows) {
            int least = g.least();
            b.append("<tr><td>").append(kinds ? LayerTable.kind(g.label()) : Html.escape(g.label())).append("</td>")
                    .append("<td class=\"num\">").append(g.averaged())
                    .append(g.averaged() == g.layers() ? "" : " of " + g.layers()).append("</td>");
            for (int m = 0; m < masks.size(); m++) {
                double v = g.means()[m];
                b.append("<td class=\"num").append(m == least ? " least" : "").append("\">")
                        .append(Double.isNaN(v) ? "\u2014" : String.format(Locale.ROOT, "%.4g", v)).append("</td>");
            }
            b.append("<td>").append(least < 0 ? "\u2014" : Html.escape(masks.get(least).name())).append("</td></tr>\n");
        }
        b.append("</tbody></table></div>\n");
    }

    private static String description(String column) {
        return ResultTables.LAYERS.columns().stream().filter(c -> c.name().equals(column)).map(Column::description)
                .findFirst().orElseThrow(() -> new IllegalStateException("no layers column " + column));
    }
}
