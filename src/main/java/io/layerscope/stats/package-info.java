/**
 * Per-layer statistics from a Linear layer's weight and its calibration scaler_row (docs/METRICS.md
 * has the formulas): summaries and fixed log-spaced histograms of |W|, the activation norm and the Wanda
 * metric; Wanda and magnitude masks and their agreement; outlier ratios; top activation features.
 * Entry point: {@link io.layerscope.stats.LayerStatistics#compute}, on the calling thread or on a
 * ForkJoinPool with the same result bit for bit. Plain Java over float arrays.
 */
package io.layerscope.stats;
