/**
 * The report of a sweep, written into its results directory: {@code overview.png} (line charts across
 * depth: the layers' statistics, then the depth panels) and {@code index.html}, a self-contained page
 * (inline CSS and script, no network) with the overview, a sortable table of the layers, the output
 * error of each mask by kind and depth (--gram), the depth tables and a gallery of the layer pictures'
 * thumbnails (which the per-layer stage renders beside the pictures).
 * {@link io.layerscope.report.SweepReport} writes the overview and the page; it needs no Spark, and of
 * the statistics only the depth records it shows.
 */
package io.layerscope.report;
