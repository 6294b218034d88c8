package io.layerscope.report;

import io.layerscope.plot.LayerSummary;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The picture gallery of the report: the layers with a picture, grouped by decoder block (lm_head
 * last), each a thumbnail (or the picture itself, scaled by the browser, when there is no thumbnail)
 * linking to the full picture.
 */
final class Gallery {
    private Gallery() {
    }

    /** The gallery's blocks; empty when no layer has a picture. */
    static String render(List<ReportedLayer> layers, List<String> slugs) {
        // Key: block, with layers outside the blocks (-1) after every block.
        Map<Integer, List<Integer>> groups = new TreeMap<>();
        for (int i = 0; i < layers.size(); i++) {
            LayerSummary s = layers.get(i).stats();
            if (layers.get(i).picture() != null) {
                groups.computeIfAbsent(s.inBlock() ? s.block() : Integer.MAX_VALUE, k -> new ArrayList<>()).add(i);
            }
        }
        StringBuilder b = new StringBuilder();
        groups.forEach((block, members) -> {
            String heading = block == Integer.MAX_VALUE ? "head" : "block " + block;
            b.append("<div class=\"block\">\n<h3>").append(Html.escape(heading)).append("</h3>\n<div class=\"gallery\">\n");
            for (int i : members) {
                figure(b, layers.get(i), slugs.get(i));
            }
            b.append("</div>\n</div>\n");
        });
        return b.toString();
    }

    private static void figure(StringBuilder b, ReportedLayer layer, String slug) {
        LayerSummary s = layer.stats();
        String image = layer.thumbnail() != null ? layer.thumbnail() : layer.picture();
        b.append("<figure id=\"").append(Html.escape(Html.id("picture-", slug))).append("\">")
                .append("<a href=\"").append(Html.escape(Html.path(layer.picture()))).append("\" title=\"")
                .append(Html.escape(s.layer())).append("\">")
                .append("<img src=\"").append(Html.escape(Html.path(image))).append("\" alt=\"")
                .append(Html.escape("analysis picture of " + s.layer())).append("\" loading=\"lazy\" decoding=\"async\" />")
                .append("</a><figcaption>").append(LayerTable.kind(s.kind()))
                .append("<span class=\"dims\">").append(s.outFeatures()).append(" \u00d7 ").append(s.inFeatures())
                .append("</span></figcaption></figure>\n");
    }
}
