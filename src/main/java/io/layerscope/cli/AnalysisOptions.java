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

    @Option(names = "--outlier-block-share", paramLabel = "F", defaultValue = "0.25",
            description = "A channel is a systematic outlier feature (LLM.int8: |x| >= 6) when it reaches |x| >= 6 in at"
                    + " least this share of the blocks, 0 <= F <= 1 (outlier_features table). Default: ${DEFAULT-VALUE}.")
    double outlierBlockShare;

    @Option(names = "--outlier-position-share", paramLabel = "F", defaultValue = "0.06",
            description = "... and at at least this share of the calibration token positions (in any block),"
                    + " 0 <= F <= 1 (outlier_features table). Default: ${DEFAULT-VALUE}.")
    double outlierPositionShare;

    double outlierBlockShare() {
        return share("--outlier-block-share", outlierBlockShare, "0.25");
    }

    double outlierPositionShare() {
        return share("--outlier-position-share", outlierPositionShare, "0.06");
    }

    private static double share(String option, double value, String example) {
        if (!(value >= 0 && value <= 1)) {
            throw new LayerscopeException(option + " " + value + " must be a share between 0 and 1, e.g. " + option + " "
                    + example);
        }
        return value;
    }

    double sparsity() {
        if (!(sparsity > 0 && sparsity < 1)) {
            throw new LayerscopeException("--sparsity " + sparsity + " must be between 0 and 1, e.g. --sparsity 0.5");
        }
        return sparsity;
    }
}
