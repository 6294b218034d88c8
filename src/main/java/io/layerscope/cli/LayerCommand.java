package io.layerscope.cli;

import io.layerscope.plot.PictureSize;
import io.layerscope.spark.SweepJob;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code layer}: one layer's statistics and picture; the forward stops after the layer's block. */
@Command(name = "layer", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = {"Analyse one layer: its statistics and its 9-panel picture.",
            "Prints the statistics and writes layer_analysis_<NAME>.png (in --out's png/, or the current directory).",
            "With --out, also the same Parquet tables as a sweep, for that layer. The calibration forward"
                + " runs only up to the layer's block (every block with --save-pruned or --allocation owl,"
                + " which prune or weigh the whole model)."},
        footer = {"", "Example:", "  ./submit.sh layer --model demo --layer model.layers.1.mlp.down_proj",
            "", Main.SPARK_OPTIONS_FOOTER_1, Main.SPARK_OPTIONS_FOOTER_2, Main.SPARK_OPTIONS_FOOTER_3})
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

    @Option(names = "--overwrite", description = "Replace an existing --out directory (without --out: the picture of that name in the"
            + " working directory).")
    boolean overwrite;

    @Mixin
    CalibrationOptions calibration;

    @Mixin
    AnalysisOptions analysis;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        io.layerscope.spark.JobChecks.refuseNestedOutputs(out, analysis.savePruned(), null);   // before the model resolves
        var options = JobArguments.build("layer", model, calibration, analysis, out, out == null ? Path.of(".") : null,
                overwrite, layer, true, true, pngSize);
        SweepJob.Outcome outcome = new SweepJob(options, System.err).run();
        LayerPrintout.print(outcome.layers().get(0), spec.commandLine().getOut());
        spec.commandLine().getOut().flush();
        System.err.printf("layer: done in %.1f s; wrote %s%n", outcome.timings().get("total"), outcome.written());
        return 0;
    }
}
