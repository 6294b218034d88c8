package io.layerscope.results;

import java.io.Serializable;

/**
 * What a job knows of one decoder block: OWL's outlier ratios from the dense statistics and the
 * sparsity the run's allocation gave it (a row of the {@code blocks} table).
 *
 * @param owlRatioM3         OWL's D at M = 3, percent
 * @param owlRatioM5         at M = 5 (OWL's default)
 * @param owlRatioM7         at M = 7
 * @param owlOutlierRatio    at the run's --owl-m
 * @param sparsityAllocated  the block's sparsity under the run's allocation
 * @param sparsityActual     the share of the block's Linear weights its masks prune; null in dense mode
 */
public record BlockResult(int block, double owlRatioM3, double owlRatioM5, double owlRatioM7, double owlOutlierRatio,
                          double sparsityAllocated, Double sparsityActual) implements Serializable {
    private static final long serialVersionUID = 1L;
}
