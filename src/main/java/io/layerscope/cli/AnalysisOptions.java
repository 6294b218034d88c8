package io.layerscope.cli;

import io.layerscope.LayerscopeException;
import io.layerscope.prune.Allocation;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.SparsityPattern;
import io.layerscope.spark.JobOptions;
import io.layerscope.spark.StatsDevice;
import io.layerscope.stats.LayerStatistics;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/** How layers are analysed and pruned, shared by {@code sweep} and {@code layer}: {@code @Mixin AnalysisOptions analysis;}. */
public final class AnalysisOptions {
    /** bash completion's values of a choice option. */
    static final class ModeNames extends java.util.ArrayList<String> {
        ModeNames() {
            super(java.util.List.of("dense", "sequential"));
        }
    }

    static final class AllocationNames extends java.util.ArrayList<String> {
        AllocationNames() {
            super(java.util.List.of("uniform", "owl"));
        }
    }

    static final class StatsDeviceNames extends java.util.ArrayList<String> {
        StatsDeviceNames() {
            super(java.util.List.of("auto", "java", "device"));
        }
    }

    @Option(names = "--mode", defaultValue = "dense", paramLabel = "MODE", completionCandidates = ModeNames.class,
            description = {"dense: every layer's statistics from one forward of the unpruned model (default).",
                "sequential: Wanda's prune_wanda, block by block: each block's inputs come from the blocks before it"
                    + " already pruned, so the statistics are what Wanda sees while it prunes; the dense view is kept"
                    + " beside them (drift_* columns, activation_norms.scaler_row_dense)."})
    String mode;

    @Option(names = "--sparsity", paramLabel = "S",
            description = "Share of each layer's weights every mask prunes, 0 < S < 1 (Wanda's --sparsity_ratio);"
                    + " with --allocation owl, the mean over the blocks. Default: " + LayerStatistics.DEFAULT_SPARSITY
                    + ", and N/M with --prune-n/--prune-m (which must agree with it, as in Wanda).")
    Double sparsity;

    @Option(names = "--prune-n", paramLabel = "N",
            description = "With --prune-m: N:M masks (in every group of M consecutive input columns the N smallest"
                    + " Wanda scores are pruned) instead of unstructured ones, e.g. --prune-n 2 --prune-m 4.")
    Integer pruneN;

    @Option(names = "--prune-m", paramLabel = "M", description = "Group size of N:M masks; must divide every pruned"
            + " layer's in_features.")
    Integer pruneM;

    @Option(names = "--allocation", defaultValue = "uniform", paramLabel = "KIND", completionCandidates = AllocationNames.class,
            description = "Per-block sparsity: uniform (every block at --sparsity, default) or owl (OWL's outlier-weighted"
                    + " allocation from a dense pass; every Linear of a block at its block's sparsity).")
    String allocation;

    @Option(names = "--owl-m", defaultValue = "" + Allocation.DEFAULT_OWL_M, paramLabel = "M",
            description = "OWL's outlier threshold: entries above M x the block's mean Wanda score (M > 0)."
                    + " Default: ${DEFAULT-VALUE}.")
    double owlM;

    @Option(names = "--owl-lambda", defaultValue = "" + Allocation.DEFAULT_LAMBDA, paramLabel = "L",
            description = "OWL's lambda (0 <= L < 0.5): block sparsities span a range 2L wide whose mean is --sparsity"
                    + " (not centred on it). Default: ${DEFAULT-VALUE}.")
    double owlLambda;

    @Option(names = "--save-pruned", paramLabel = "DIR",
            description = {"Write the pruned model to DIR as a Hugging Face checkpoint (config, tokenizer, safetensors;"
                    + " masked weights zeroed, everything else byte for byte the source's). DIR must not exist unless"
                    + " --overwrite; it appears only when complete.",
                "With --mode dense this is one-shot pruning: every mask from the dense statistics. With --mode"
                    + " sequential it is Wanda's prune_wanda."})
    Path savePruned;

    @Option(names = "--gram", description = {"Also accumulate the Gram matrix G = sum x x^T of every analysed layer's"
            + " input (SparseGPT's Hessian) and report the output error of each mask, ||dW X||^2 / ||W X||^2"
            + " (recon_err_* columns), and each input's participation ratio and dead features. Costs one more forward"
            + " over the calibration data per pass (see --gram-memory) and in x in multiply-adds per weight and mask."})
    boolean gram;

    @Option(names = "--gram-memory", paramLabel = "SIZE", defaultValue = JobOptions.Analysis.DEFAULT_GRAM_MEMORY,
            description = "With --gram: memory an executor may give Gram matrices at once (in x in doubles per input,"
                    + " for each of its concurrent tasks), as 512m, 4g ...; the inputs are split into passes over the"
                    + " calibration data that fit; at most a quarter of an executor's heap. Default: ${DEFAULT-VALUE}.")
    String gramMemory;

    @Option(names = "--stats-device", paramLabel = "WHERE", defaultValue = "auto", completionCandidates = StatsDeviceNames.class,
            description = {"Where each layer's statistics and masks (stage two) and the depth statistics (the forward's)"
                    + " are computed: device (libtorch operations on the task's device, in blocks of rows), java (plain"
                    + " Java on the executor's CPU cores, from host copies) or auto (default: device on a GPU executor,"
                    + " java on a CPU one). Both give the same masks, order statistics, histograms and counts; means,"
                    + " standard deviations and block influence agree within 1e-6 relative. --gram's output errors are"
                    + " computed in Java only: with --gram, stage two runs in Java whatever this says, and device is"
                    + " refused."})
    String statsDevice;

    @Option(names = "--no-depth",
            description = {"Leave out the depth and outlier statistics: no block_distances, super_weights or"
                    + " outlier_features table, and the blocks table keeps only its pruning columns (OWL's ratios, the"
                    + " sparsities; the others null). The forward then computes nothing for them: on a GPU executor"
                    + " their reductions on the device are estimated at a few times the forward's own time, on a CPU"
                    + " one the difference is within the noise."})
    boolean noDepth;

    StatsDevice statsDevice() {
        StatsDevice where = StatsDevice.parse(statsDevice);
        if (gram && where == StatsDevice.DEVICE) {
            throw new LayerscopeException("--stats-device device does not compute --gram's output errors (recon_err_*),"
                    + " which need the Java path's masks row by row: drop --gram, or use --stats-device auto or java");
        }
        // with --gram, stage two takes the Java path itself (LayerStage); auto still puts the depth
        // statistics on a GPU executor's device
        return where;
    }

    long gramMemory() {
        return SizeOption.bytes("--gram-memory", gramMemory, "4g", "512m");
    }

    PruneMode mode() {
        return switch (mode.toLowerCase(Locale.ROOT)) {
            case "dense" -> PruneMode.DENSE;
            case "sequential" -> PruneMode.SEQUENTIAL;
            default -> throw new LayerscopeException("--mode " + mode + " is not a mode; use --mode dense or --mode sequential");
        };
    }

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

    /**
     * --sparsity, or N/M under an N:M pattern, which prunes N/M of every layer whatever --sparsity says:
     * a --sparsity that differs is refused (Wanda's main.py asserts it), else lm_head's statistics and
     * run.json would say one sparsity and the blocks' masks prune another.
     */
    double sparsity() {
        SparsityPattern pattern = pattern();
        if (sparsity == null) {
            return pattern.structured() ? (double) pattern.n() / pattern.m() : LayerStatistics.DEFAULT_SPARSITY;
        }
        if (!(sparsity > 0 && sparsity < 1)) {
            throw new LayerscopeException("--sparsity " + sparsity + " must be between 0 and 1, e.g. --sparsity 0.5");
        }
        if (pattern.structured() && sparsity != (double) pattern.n() / pattern.m()) {
            throw new LayerscopeException("--sparsity " + sparsity + " disagrees with --prune-n " + pattern.n()
                    + " --prune-m " + pattern.m() + ", which prunes " + pattern.n() + "/" + pattern.m() + " = "
                    + (double) pattern.n() / pattern.m() + " of every layer: leave --sparsity out, or give --sparsity "
                    + (double) pattern.n() / pattern.m());
        }
        return sparsity;
    }

    SparsityPattern pattern() {
        if (pruneN == null && pruneM == null) {
            return SparsityPattern.UNSTRUCTURED;
        }
        if (pruneN == null || pruneM == null) {
            throw new LayerscopeException((pruneN == null ? "--prune-m" : "--prune-n") + " needs "
                    + (pruneN == null ? "--prune-n" : "--prune-m") + " too: N:M masks take both, e.g. --prune-n 2 --prune-m 4");
        }
        if (!(pruneN > 0 && pruneN < pruneM)) {
            throw new LayerscopeException("--prune-n " + pruneN + " --prune-m " + pruneM + " is not an N:M pattern; it needs"
                    + " 0 < N < M, e.g. --prune-n 2 --prune-m 4");
        }
        return new SparsityPattern(pruneN, pruneM);
    }

    /** The command these options belong to, to tell an option given from its default (null when made by hand). */
    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    picocli.CommandLine.Model.CommandSpec command;

    private boolean given(String option) {
        return Main.given(command, option);
    }

    Allocation allocation() {
        Allocation.Kind kind = switch (allocation.toLowerCase(Locale.ROOT)) {
            case "uniform" -> Allocation.Kind.UNIFORM;
            case "owl" -> Allocation.Kind.OWL;
            default -> throw new LayerscopeException("--allocation " + allocation + " is not an allocation; use"
                    + " --allocation uniform or --allocation owl");
        };
        // (--owl-m also sets the blocks table's owl_outlier_ratio, which every run writes)
        if (kind != Allocation.Kind.OWL && given("--owl-lambda")) {
            throw new LayerscopeException("--owl-lambda sets OWL's allocation, which needs --allocation owl; add it,"
                    + " or drop --owl-lambda");
        }
        if (!(owlM > 0 && owlM <= Float.MAX_VALUE)) {
            throw new LayerscopeException("--owl-m " + owlM + " must be a positive number up to float32's largest, "
                    + Float.MAX_VALUE + ", e.g. --owl-m 5");
        }
        if (!(owlLambda >= 0 && owlLambda < 0.5)) {
            throw new LayerscopeException("--owl-lambda " + owlLambda + " must be at least 0 and below 0.5, e.g. --owl-lambda 0.08");
        }
        return new Allocation(kind, owlM, owlLambda);
    }

    Path savePruned() {
        if (savePruned != null && savePruned.toString().isBlank()) {
            throw new LayerscopeException("--save-pruned is empty; name the directory for the pruned model");
        }
        return savePruned;
    }
}
