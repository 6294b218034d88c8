package io.layerscope.cli;

import io.layerscope.plot.PictureSize;
import io.layerscope.spark.LayerResult;
import io.layerscope.spark.SweepJob;
import io.layerscope.stats.Distribution;
import io.layerscope.stats.LayerStats;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code layer}: one layer's statistics and picture; the forward stops after the layer's block. */
@Command(name = "layer", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Analyse one layer: its statistics and its 9-panel picture.",
            "Prints the statistics and writes layer_analysis_<NAME>.png (in --out, or the current directory).",
            "With --out, also the same Parquet tables as a sweep, for that layer. The calibration forward",
            "runs only up to the layer's block."},
        footer = {"", "Example:", "  ./submit.sh layer --model demo --layer model.layers.1.mlp.down_proj"})
public final class LayerCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--layer", required = true, paramLabel = "NAME", description = "Full layer name, as list-layers prints it.")
    String layer;

    @Option(names = "--out", paramLabel = "DIR", description = "Results directory for the Parquet tables, run.json and the PNG.")
    Path out;

    @Option(names = "--png-size", paramLabel = "WxH", defaultValue = PictureSize.DEFAULT_TEXT,
            description = "Pixel size of the layer's picture (default ${DEFAULT-VALUE}; at least 600x500).")
    String pngSize;

    @Option(names = "--overwrite", description = "Replace an existing --out directory.")
    boolean overwrite;

    @Mixin
    CalibrationOptions calibration;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        var options = JobOptions.build("layer", model, calibration, out, out == null ? Path.of(".") : null,
                overwrite, layer, true, true, pngSize);
        SweepJob.Outcome outcome = new SweepJob(options, System.err).run();
        printTable(outcome.layers().get(0), spec.commandLine().getOut());
        spec.commandLine().getOut().flush();
        System.err.printf("layer: done in %.1f s; wrote %s%n", outcome.timings().get("total"), outcome.written());
        return 0;
    }

    /** The layer's statistics for people: one row per quantity, then masks and outliers. */
    static void printTable(LayerResult r, PrintWriter out) {
        LayerStats s = r.stats();
        out.printf("%s  [%d x %d]  nsamples=%d ntokens=%d%n", r.layer().name(), r.layer().outFeatures(),
                r.layer().inFeatures(), r.nsamples(), r.ntokens());
        out.printf("%-12s %12s %12s %12s %12s %12s %12s %12s%n", "", "mean", "std", "min", "median", "p01", "p99", "max");
        row(out, "|W|", s.weightAbs());
        row(out, "act_norm", s.actNorm());
        row(out, "wanda", s.wanda());
        out.printf("mask agreement at %.0f%% sparsity, Wanda vs magnitude: per-row %.4f, layer-wise %.4f, 2:4 %.4f%n",
                100 * s.masks().sparsity(), s.masks().row(), s.masks().layer(), s.masks().twoOfFour());
        out.printf("outlier ratio (Wanda metric > M x mean): M=3 %.5f, M=5 %.5f, M=7 %.5f%n",
                s.outliers().m3(), s.outliers().m5(), s.outliers().m7());
        out.println("top input features by activation norm: " + Arrays.toString(s.topActFeatures()));
    }

    private static void row(PrintWriter out, String name, Distribution d) {
        var m = d.summary();
        out.printf("%-12s %12.6g %12.6g %12.6g %12.6g %12.6g %12.6g %12.6g%n", name, m.mean(), m.std(), m.min(),
                m.median(), m.p01(), m.p99(), m.max());
    }
}
