package io.layerscope.report;

import io.layerscope.plot.LayerSummary;

/**
 * One layer of the report: its numbers, and the paths (relative to the results directory, with '/')
 * of its picture and of the picture's thumbnail; either is null when there is none (--no-png).
 */
public record ReportedLayer(LayerSummary stats, String picture, String thumbnail) {

    /** A layer with its picture; the thumbnail comes later ({@link #withThumbnail}). */
    public ReportedLayer(LayerSummary stats, String picture) {
        this(stats, picture, null);
    }

    public ReportedLayer withThumbnail(String path) {
        return new ReportedLayer(stats, picture, path);
    }
}
