package io.layerscope.report;

import io.layerscope.results.DepthTables.OutlierFeatureRow;
import io.layerscope.stats.DepthStatistics.BlockDepth;
import io.layerscope.stats.DepthStatistics.BlockDistance;
import io.layerscope.stats.SuperWeight;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The report's depth section: warnings for super-weight candidates a mask would prune, then small
 * tables of the blocks, the best block range to drop per span, the super-weight candidates and the
 * systematic outlier features (docs/METRICS.md, depth and outliers).
 */
final class DepthSection {
    private DepthSection() {
    }

    /** The section element; {@code depth} holds the rows of the four depth tables. */
    static String render(DepthSummary depth) {
        StringBuilder b = new StringBuilder();
        b.append("<section id=\"depth\">\n<h2>Depth and outliers</h2>\n");
        b.append("<p class=\"hint\" id=\"depth-stream\">").append(depth.prunedStream()
                ? "Sequential run: the residual stream here is the pruned model's (each block pruned with its round's"
                        + " masks, fed the pruned outputs of the blocks before it); down_proj's spikes, the super-weight"
                        + " candidates and the outlier features come from the dense block over that stream, as its"
                        + " round's masks see it."
                : "From the dense model's calibration forward.").append("</p>\n");
        for (SuperWeight w : depth.superWeights()) {
            if (w.pruned()) {
                b.append("<p class=\"note warning\">Warning: super-weight candidate ").append(Html.escape(weightName(w)))
                        .append(" = ").append(fmt(w.weight())).append(" (rank ").append(w.rankInRow())
                        .append(" by |W| in its row) would be pruned by ").append(Html.escape(String.join(", ", masks(w))))
                        .append(" at sparsity ").append(fmt(w.sparsity())).append(".</p>\n");
            }
        }
        b.append("<p class=\"hint\">Block influence (ShortGPT), angular distance to the next block, and the block")
                .append(" output's largest |h| against its median (massive activations); columns of")
                .append(" <code>blocks.parquet</code>.</p>\n");
        List<String[]> rows = new ArrayList<>();
        for (BlockDepth d : depth.blocks()) {
            rows.add(new String[] {String.valueOf(d.block()), fmt(d.blockInfluence()), fmt(d.angularDistanceNext()),
                    fmt(d.top().abs()) + " (channel " + d.top().channel() + ")", fmt(d.medianAbs()), d.massive() ? "yes" : ""});
        }
        table(b, "blocks", new String[] {"block", "block influence", "angular distance to next", "top |h|", "median |h|",
                "massive"}, rows);

        rows = new ArrayList<>();
        for (BlockDistance d : depth.distances()) {
            if (d.start() == d.bestStart()) {
                rows.add(new String[] {String.valueOf(d.span()), d.start() + " .. " + (d.start() + d.span() - 1),
                        fmt(d.angularDistance())});
            }
        }
        b.append("<p class=\"hint\">For each number of blocks n, the n consecutive blocks whose removal changes the")
                .append(" last token's state least (smallest angular distance; <code>block_distances.parquet</code>).</p>\n");
        table(b, "block-ranges", new String[] {"blocks dropped", "range", "angular distance"}, rows);

        rows = new ArrayList<>();
        for (SuperWeight w : depth.superWeights()) {
            rows.add(new String[] {weightName(w), fmt(w.weight()), String.valueOf(w.rankInRow()),
                    "sample " + w.input().sample() + ", position " + w.input().position(), fmt(w.input().abs()),
                    fmt(w.output().abs()), w.pruned() ? String.join(", ", masks(w)) : "none"});
        }
        b.append("<p class=\"hint\">Super-weight candidates: down_proj's largest input and output on the same token")
                .append(" (<code>super_weights.parquet</code>).</p>\n");
        table(b, "super-weights", new String[] {"weight", "value", "rank in row", "token", "|input|", "|output|",
                "pruned by"}, rows);

        rows = new ArrayList<>();
        List<OutlierFeatureRow> features = depth.outlierFeatures();
        // a random or badly scaled model can flag every channel (thousands): the most systematic ones,
        // in LLM.int8's sense (in the most blocks, then at the most positions)
        List<OutlierFeatureRow> shown = features.size() <= OUTLIER_FEATURES_SHOWN ? features : features.stream()
                .sorted(Comparator.comparingDouble(OutlierFeatureRow::blockShare).reversed()
                        .thenComparing(Comparator.comparingDouble(OutlierFeatureRow::positionShare).reversed()))
                .limit(OUTLIER_FEATURES_SHOWN).toList();
        for (OutlierFeatureRow f : shown) {
            rows.add(new String[] {f.tap() + " (" + f.kinds() + ")", String.valueOf(f.channel()), fmt(f.blockShare()),
                    fmt(f.positionShare()), f.prunedShare() == null ? "-" : fmt(f.prunedShare()),
                    // no analysed layer reads the tap: "none" would read as Wanda sparing the feature
                    f.prunedShare() == null ? "no layer analysed reads it" : prunedIn(f.prunedLayers())});
        }
        b.append("<p class=\"hint\">Systematic outlier features (LLM.int8: |x| &#8805; 6): the share of their")
                .append(" columns' weights the Wanda masks prune (against the layers' sparsity), and the layers whose")
                .append(" mask prunes any (<code>outlier_features.parquet</code>")
                .append(features.size() > shown.size() ? "; here the " + shown.size() + " of " + features.size()
                        + " in the most blocks, then at the most positions" : "").append(").</p>\n");
        table(b, "outlier-features", new String[] {"tap", "channel", "share of blocks", "share of positions",
                "share Wanda prunes", "Wanda mask prunes it in"}, rows);
        return b.append("</section>\n").toString();
    }

    /** Features the report lists; the table has them all. */
    static final int OUTLIER_FEATURES_SHOWN = 50;
    /** Layers named in a feature's cell; more are counted. */
    static final int LAYERS_NAMED = 4;

    private static String prunedIn(List<String> layers) {
        if (layers.isEmpty()) {
            return "none";
        }
        return layers.size() <= LAYERS_NAMED ? String.join(", ", layers)
                : String.join(", ", layers.subList(0, LAYERS_NAMED)) + " and " + (layers.size() - LAYERS_NAMED) + " more";
    }

    private static String weightName(SuperWeight w) {
        return "model.layers." + w.block() + ".mlp.down_proj.weight[" + w.row() + ", " + w.column() + "]";
    }

    private static List<String> masks(SuperWeight w) {
        List<String> m = new ArrayList<>();
        if (Boolean.TRUE.equals(w.prunedWandaRow())) {
            m.add("Wanda per-row");
        }
        if (w.prunedMagnitudeRow()) {
            m.add("magnitude per-row");
        }
        if (Boolean.TRUE.equals(w.prunedWanda2of4())) {
            m.add("Wanda 2:4");
        }
        return m;
    }

    private static void table(StringBuilder b, String id, String[] headings, List<String[]> rows) {
        if (rows.isEmpty()) {
            b.append("<p class=\"note\" id=\"").append(id).append("\">None in this run.</p>\n");
            return;
        }
        b.append("<div class=\"table-wrap\"><table id=\"").append(id).append("\">\n<thead><tr>");
        for (String h : headings) {
            b.append("<th>").append(Html.escape(h)).append("</th>");
        }
        b.append("</tr></thead>\n<tbody>\n");
        for (String[] r : rows) {
            b.append("<tr>");
            for (String v : r) {
                b.append("<td>").append(Html.escape(v)).append("</td>");
            }
            b.append("</tr>\n");
        }
        b.append("</tbody></table></div>\n");
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }
}
