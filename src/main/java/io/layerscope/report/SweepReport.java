package io.layerscope.report;

import io.layerscope.plot.OverviewChart;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the report of a sweep into a results directory: {@value HtmlReport#OVERVIEW} and
 * {@value HtmlReport#FILE}. Layer pictures and their thumbnails (under {@code <picture dir>/thumbs/},
 * {@link #thumbnailPath}) must already be in the directory at the paths the layers name: the
 * per-layer stage renders each thumbnail with its picture.
 *
 * <pre>{@code
 * SweepReport.write(stagingDir, header, layers);   // overview.png, index.html
 * }</pre>
 */
public final class SweepReport {
    /** Width of the gallery thumbnails: the gallery shows them 170-200 CSS px wide, so sharp at 2 device px per CSS px. */
    public static final int THUMBNAIL_WIDTH = 360;
    public static final String THUMBNAIL_DIR = "thumbs";

    private SweepReport() {
    }

    /** Writes the two parts into {@code dir}; returns the page's path. */
    public static Path write(Path dir, ReportHeader header, List<ReportedLayer> layers) {
        return write(dir, header, layers, null);
    }

    /**
     * As {@link #write(Path, ReportHeader, List)}, with the depth section and the overview's depth panels
     * when {@code depth} is not null.
     */
    public static Path write(Path dir, ReportHeader header, List<ReportedLayer> layers, DepthSummary depth) {
        Path page = dir.resolve(HtmlReport.FILE);
        try {
            Files.write(dir.resolve(HtmlReport.OVERVIEW), new OverviewChart().renderPng(header.model(), header.view(),
                    header.calibration(), layers.stream().map(ReportedLayer::stats).toList(), DepthSummary.overview(depth)));
            Files.writeString(page, HtmlReport.render(header, layers, depth));
        } catch (IOException e) {
            // told by the caller, which knows the directory the user named (this one may be its staging)
            throw new UncheckedIOException("cannot write the report into " + dir, e);
        }
        return page;
    }

    /** The thumbnail path of a picture path: {@code png/x.png} to {@code png/thumbs/x.png}. */
    public static String thumbnailPath(String picture) {
        int slash = picture.lastIndexOf('/');
        return picture.substring(0, slash + 1) + THUMBNAIL_DIR + "/" + picture.substring(slash + 1);
    }
}
