/**
 * The report of a sweep, written into its results directory: {@code overview.png} (four line charts
 * across depth), thumbnails of the layer pictures and {@code index.html}, a self-contained page (inline
 * CSS and script, no network) with the overview, a sortable table of the layers, the output error of each
 * mask by kind and depth (--gram), the depth tables and a picture gallery.
 * {@link io.layerscope.report.SweepReport} writes all three; it needs neither Spark nor the statistics code.
 */
package io.layerscope.report;
