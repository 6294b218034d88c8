package io.layerscope.report;

import io.layerscope.LayerscopeException;
import io.layerscope.plot.BlockSummary;
import io.layerscope.plot.OverviewChart;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The report page, {@code index.html}: self-contained (CSS and the sorting script inline, no fonts,
 * scripts or images from the network), so it opens from disk and can be mailed or archived with the
 * results directory. Sections: the run (model, calibration, details), the overview picture
 * ({@value #OVERVIEW}, linked relatively), the sortable layer table ({@link LayerTable}), the output
 * error of each mask by kind and depth when the sweep computed it ({@link MaskErrorSection}, --gram),
 * the depth tables when given ({@link DepthSection}) and the picture gallery ({@link Gallery}), or a
 * note when the sweep made no pictures.
 *
 * <p>Sorting: clicking a heading sorts by it (numbers numerically, largest first on the first click;
 * text in natural order, so block 10 follows block 9); the state is kept in the address,
 * {@code index.html#sort=wanda_mean:desc}, and restored from it when the page opens. All text is
 * escaped; links are relative and percent-encoded; the markup is also well-formed XML.
 *
 * <pre>{@code
 * String page = HtmlReport.render(header, layers);
 * }</pre>
 */
public final class HtmlReport {
    /** File name of the page in the results directory. */
    public static final String FILE = "index.html";
    /** File name of the overview picture beside the page. */
    public static final String OVERVIEW = "overview.png";

    private static final String CSS = resource("report.css");
    private static final String SCRIPT = resource("report.js");

    private HtmlReport() {
    }

    /** The page for {@code layers} (table order as given; at least one layer). */
    public static String render(ReportHeader header, List<ReportedLayer> layers) {
        return render(header, layers, null);
    }

    /** As {@link #render(ReportHeader, List)}, with the depth section when {@code depth} is not null. */
    public static String render(ReportHeader header, List<ReportedLayer> layers, DepthSummary depth) {
        if (layers.isEmpty()) {
            throw new LayerscopeException("report of " + header.model() + ": no layers to report; the sweep analysed none");
        }
        List<String> slugs = slugs(layers);
        List<BlockSummary> blocks = DepthSummary.overview(depth);   // the overview's depth panels
        MaskErrorMeans errors = MaskErrorMeans.of(layers.stream().map(ReportedLayer::stats).toList());   // --gram only
        boolean pictures = layers.stream().anyMatch(l -> l.picture() != null);
        String model = Html.escape(header.model());
        String job = Html.escape("layerscope " + header.job());
        String summary = layers.size() + (layers.size() == 1 ? " layer" : " layers")
                + (header.view() == null ? "" : " \u00b7 " + header.view())
                + " \u00b7 calibration: " + header.calibration().describe();
        StringBuilder b = new StringBuilder(64 * 1024);
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n")
                .append("<meta name=\"generator\" content=\"layerscope\" />\n")
                .append("<title>").append(model).append(" \u2014 ").append(job).append("</title>\n")
                .append("<style>/*<![CDATA[*/\n").append(CSS).append("/*]]>*/</style>\n</head>\n<body>\n");

        b.append("<header>\n<p class=\"eyebrow\">").append(job).append("</p>\n<h1>").append(model).append("</h1>\n")
                .append("<p class=\"subtitle\">").append(Html.escape(summary)).append("</p>\n");
        if (!header.details().isEmpty()) {
            b.append("<dl class=\"meta\">");
            header.details().forEach((k, v) -> b.append("<div><dt>").append(Html.escape(k)).append("</dt><dd>")
                    .append(Html.escape(v)).append("</dd></div>"));
            b.append("</dl>\n");
        }
        b.append("<nav><a href=\"#overview\">Overview</a><a href=\"#layers\">Layers</a>");
        if (errors != null) {
            b.append("<a href=\"#").append(MaskErrorSection.ID).append("\">Mask errors</a>");
        }
        if (depth != null) {
            b.append("<a href=\"#depth\">Depth</a>");
        }
        if (pictures) {
            b.append("<a href=\"#pictures\">Pictures</a>");
        }
        b.append("</nav>\n</header>\n<main>\n");

        b.append("<section id=\"overview\">\n<h2>Overview across depth</h2>\n")
                .append("<a class=\"overview\" href=\"").append(OVERVIEW).append("\"><img src=\"").append(OVERVIEW)
                .append("\" width=\"").append(OverviewChart.DEFAULT_WIDTH).append("\" height=\"")
                .append(new OverviewChart().imageHeight(layers.stream().map(ReportedLayer::stats).toList(), blocks))
                .append("\" alt=\"Mean Wanda metric, outlier ratio, mask agreement and mean activation norm of every layer kind across the decoder blocks")
                .append(blocks.isEmpty() ? "" : "; block influence, angular distance to the next block and largest |h| of each block")
                .append("\" /></a>\n")
                .append("</section>\n");

        b.append("<section id=\"layers\">\n<h2>Layers</h2>\n<p class=\"hint\">Click a heading to sort by it, again to ")
                .append("reverse; sort by block to return to model order. Hover a heading for the column's meaning ")
                .append("(headings name the columns of <code>layers.parquet</code>).</p>\n<div class=\"table-wrap\">\n")
                .append(LayerTable.render(layers, slugs)).append("</div>\n</section>\n");
        if (errors != null) {
            b.append(MaskErrorSection.render(errors));
        }
        if (depth != null) {
            b.append(DepthSection.render(depth));
        }

        b.append("<section id=\"pictures\">\n<h2>Layer pictures</h2>\n");
        if (pictures) {
            b.append("<p class=\"hint\">Each thumbnail opens the full 9-panel picture of its layer.</p>\n")
                    .append(Gallery.render(layers, slugs));
        } else {
            b.append("<p class=\"note\">This sweep rendered no layer pictures (it ran with <code>--no-png</code>), ")
                    .append("so there is no gallery. Run it again without that option to get one picture per layer.</p>\n");
        }
        b.append("</section>\n</main>\n<footer>\n<p>Written by layerscope. This page is self-contained and needs no network; ")
                .append("it opens from disk.");
        if (!header.links().isEmpty()) {
            b.append(" Files:");
            header.links().forEach((label, path) -> b.append(" <a href=\"").append(Html.escape(Html.path(path))).append("\">")
                    .append(Html.escape(label)).append("</a>"));
        }
        b.append("</p>\n</footer>\n<script>//<![CDATA[\n").append(SCRIPT).append("//]]></script>\n</body>\n</html>\n");
        return b.toString();
    }

    /** Fragment names, unique per layer: the sanitised layer name, "-2", "-3"... on collisions. */
    static List<String> slugs(List<ReportedLayer> layers) {
        Set<String> used = new HashSet<>();
        List<String> slugs = new ArrayList<>(layers.size());
        for (ReportedLayer l : layers) {
            String base = Html.id("", l.stats().layer());
            String slug = base;
            for (int n = 2; !used.add(slug); n++) {
                slug = base + "-" + n;
            }
            slugs.add(slug);
        }
        return slugs;
    }

    private static String resource(String name) {
        try (InputStream in = HtmlReport.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource io/layerscope/report/" + name + " is missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read resource io/layerscope/report/" + name, e);
        }
    }
}
