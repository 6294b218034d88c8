/**
 * Pruning as Wanda and OWL do it: the pattern of a mask (unstructured per row, or N:M), per-block
 * sparsities from OWL's outlier ratios, layer masks as packed bits, and the pruned checkpoint.
 * Plain Java over the checkpoint's weights; the Spark stages that drive it are in {@code spark}.
 */
package io.layerscope.prune;
