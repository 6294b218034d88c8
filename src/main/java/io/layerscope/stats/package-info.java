/** Per-layer statistics from a weight matrix and scaler_row: summaries, histograms, Wanda and magnitude masks and their agreement. */
package io.layerscope.stats;
