package io.layerscope.cli;

import io.layerscope.LayerscopeException;
import io.layerscope.stats.LayerStatistics;
import picocli.CommandLine.Option;

/** How layers are analysed, shared by {@code sweep} and {@code layer}: {@code @Mixin AnalysisOptions analysis;}. */
public final class AnalysisOptions {
    @Option(names = "--sparsity", paramLabel = "S", defaultValue = "" + LayerStatistics.DEFAULT_SPARSITY,
            description = "Share of each layer's weights every mask prunes, 0 < S < 1 (Wanda's --sparsity_ratio)."
                    + " Default: ${DEFAULT-VALUE}.")
    double sparsity;

    double sparsity() {
        if (!(sparsity > 0 && sparsity < 1)) {
            throw new LayerscopeException("--sparsity " + sparsity + " must be between 0 and 1, e.g. --sparsity 0.5");
        }
        return sparsity;
    }
}
