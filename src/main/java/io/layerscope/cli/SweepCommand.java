package io.layerscope.cli;

import io.layerscope.plot.PictureSize;
import io.layerscope.spark.JobOptions;
import io.layerscope.spark.SweepJob;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sweep}: every prunable layer (or those matching --layers) in one Spark job. */
@Command(name = "sweep", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = {"Analyse every prunable layer of a model in one Spark job.",
            "Calibration forward on the executors, then per-layer statistics, masks and pictures. Writes"
                + " DIR/{layers,activation_norms,blocks,calibration}.parquet (and the depth tables block_distances,"
                + " super_weights, outlier_features), DIR/run.json and DIR/png/; DIR appears only"
                + " when the job succeeded."},
        footer = {"", "Examples:",
            "  ./submit.sh sweep --model demo --out results/demo",
            "  ./submit.sh sweep --model meta-llama/Llama-3.2-1B --calibration c4 \\",
            "      --out results/llama-1b --master spark://head:7077",
            "", Main.SPARK_OPTIONS_FOOTER_1, Main.SPARK_OPTIONS_FOOTER_2, Main.SPARK_OPTIONS_FOOTER_3})
public final class SweepCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Results directory (must not exist unless --overwrite).")
    Path out;

    @Option(names = "--layers", paramLabel = "REGEX", description = "Only layers whose name contains a match (found anywhere in it; anchor with ^ and $), e.g."
            + " 'mlp\\.down_proj$'.")
    String layers;

    @Option(names = "--no-png", description = "Skip the per-layer pictures.")
    boolean noPng;

    @Option(names = "--png-size", paramLabel = "WxH", defaultValue = PictureSize.DEFAULT_TEXT,
            description = "Pixel size of each layer's picture (default ${DEFAULT-VALUE}; at least 600x500). Smaller"
                    + " pictures render faster; text scales with the width.")
    String pngSize;

    @Option(names = "--overwrite", description = "Replace an existing results directory (only once the new one is complete),"
            + " and the --imatrix file.")
    boolean overwrite;

    @Option(names = "--imatrix", paramLabel = "FILE",
            description = "Also write the calibration's sums of squared inputs of every decoder-block layer as llama.cpp's"
                    + " importance matrix (GGUF, for llama-quantize --imatrix). Written when the job succeeded; an"
                    + " existing file is replaced only with --overwrite.")
    Path imatrix;

    @Mixin
    CalibrationOptions calibration;

    @Mixin
    AnalysisOptions analysis;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (noPng && Main.given(spec, "--png-size")) {
            PictureSize.parse(pngSize);   // a typo in it is told as such first
            throw new io.layerscope.LayerscopeException("--png-size sizes the pictures --no-png leaves out: drop one of them");
        }
        io.layerscope.spark.JobChecks.refuseNestedOutputs(out, analysis.savePruned(), imatrix);   // before the model resolves
        JobOptions options = JobArguments.build("sweep", model, calibration, analysis, out, null, overwrite, layers, false,
                !noPng, pngSize);
        if (imatrix != null) {
            options = options.withOutput(options.output().withImatrix(imatrix));
        }
        SweepJob.Outcome outcome = new SweepJob(options, System.err).run();
        int layers = outcome.layers().size();
        System.err.printf("sweep: %d layer%s analysed in %.1f s; results in %s%n", layers, layers == 1 ? "" : "s",
                outcome.timings().get("total"), outcome.written());
        return 0;
    }
}
