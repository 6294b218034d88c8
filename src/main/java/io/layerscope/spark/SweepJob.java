package io.layerscope.spark;

import io.layerscope.results.LayerResult;
import io.layerscope.LayerscopeException;
import io.layerscope.calibration.CalibrationSample;
import io.layerscope.calibration.Documents;
import io.layerscope.calibration.HuggingFaceTokenEncoder;
import io.layerscope.calibration.WandaSampler;
import io.layerscope.llama.TapSums;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.HfCache;
import io.layerscope.model.LlamaConfig;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.TokenizerVocabulary;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * The driver of a sweep (every selected layer) or a single-layer job: checks the options, builds
 * the calibration windows, runs the two Spark stages, and writes the results directory (or, for a
 * single-layer job without --out, just the PNG). The driver reads only the config and safetensors
 * headers; weights are read by the executors.
 */
public final class SweepJob {
    /** What a finished job produced, for the command line to print. */
    public record Outcome(List<LayerResult> layers, List<CalibrationSample> samples, CalibrationStage.Result stage1,
                          Map<String, Double> timings, Path written) {
    }

    private final JobOptions o;
    private final PrintStream err;
    private final Map<String, Double> timings = new LinkedHashMap<>();
    private CalibrationSource source;
    private int documents;

    public SweepJob(JobOptions options, PrintStream err) {
        this.o = options;
        this.err = err;
    }

    public Outcome run() {
        long t0 = System.nanoTime();
        Checkpoint ckpt = Checkpoint.open(o.model().dir());
        List<PrunableLayer> layers = selectLayers(ckpt);
        checkCalibrationOptions(ckpt.config());
        // the calibration stage would find a foreign tokenizer only inside Spark, after the model loaded
        TokenizerVocabulary.check(ckpt.dir().resolve("tokenizer.json"), ckpt.config().vocabSize(), "config.json");
        ModelSpec spec = modelSpec(ckpt, layers);
        ResultsDirectory out = o.output().out() == null ? null : ResultsDirectory.create(o.output().out(), o.output().overwrite(), keptPaths());
        if (out == null) {
            refuseExistingPictures(layers);
        }
        try (WeightHashes hashes = out == null ? null : WeightHashes.start(ckpt)) {
            timings.put("resolve", seconds(t0));
            // Spark starts and the executors load the model while the driver samples the windows.
            long ts = System.nanoTime();
            SparkStartup startup = SparkStartup.begin("layerscope " + o.command(), spec, o.calibration().seqlen());
            List<CalibrationSample> samples = sample(ckpt, startup);
            SparkSession spark = startup.session();
            timings.put("spark_start", round(startup.sessionSeconds()));
            timings.put("startup", seconds(ts));
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            CalibrationStage.Result stage1;
            try {
                stage1 = calibrate(jsc, spec, samples);
            } catch (IllegalStateException e) {
                throw spark.sparkContext().isStopped() ? stoppedUnderTheJob(spark, e) : e;
            }
            startup.warmUpSeconds().ifPresent(s -> timings.put("executor_warmup", round(s)));
            SweepHooks.onDriver(jsc.sc()).calibrationDone(jsc.sc());
            List<LayerResult> results = analyse(jsc, ckpt, layers, stage1);
            DepthResults depth = out == null ? null : depth(jsc, ckpt, layers, stage1);
            long tw = System.nanoTime();
            Path written;
            try {
                if (out != null) {
                    new ResultsWriter(spark, out).write(results, samples, depth, () -> {
                        Map<Path, String> sha256 = hashes.get();
                        timings.put("write", seconds(tw));
                        timings.put("total", seconds(t0));
                        return RunRecords.of(o, source, documents, ckpt, layers, samples, stage1, timings, spark, sha256);
                    });
                    out.commit();
                    written = out.target();
                } else {
                    written = ResultsWriter.writePngs(results, o.output().pngDir());
                }
            } catch (Exception | org.apache.hadoop.fs.FSError e) {
                throw writeFailure(out == null ? o.output().pngDir() : out.target(), e);
            }
            timings.put("write", seconds(tw));
            timings.put("total", seconds(t0));
            return new Outcome(results, samples, stage1, timings, written);
        } finally {
            if (out != null) {
                out.close();
            }
        }
    }

    /**
     * A failure while writing (disk full, quota, permissions changed under us) named by its root
     * cause: Spark wraps it in task and job failures whose messages say only "Task failed while
     * writing rows". The staging directory is removed by the caller.
     */
    private static RuntimeException writeFailure(Path where, Throwable e) {
        if (e instanceof LayerscopeException l) {
            return l;
        }
        IOException root = null;
        for (Throwable t = e; t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof IOException io) {
                root = io;
            }
        }
        if (root == null && e instanceof RuntimeException r) {
            return r;
        }
        if (root instanceof InterruptedIOException) {
            return new LayerscopeException("interrupted while writing the results to " + where + "; nothing was kept", e);
        }
        String why = root != null ? ResultsDirectory.describe(root) : e.getMessage();
        return new LayerscopeException("cannot write the results to " + where + " (" + why + "); nothing was kept;"
                + " free space there or choose another --out", e);
    }

    /**
     * Spark stopped its context under the job: a standalone master that never answered gives up after
     * the session started (Ctrl-C is reported before this by the command line, which checks first).
     */
    private static LayerscopeException stoppedUnderTheJob(SparkSession spark, IllegalStateException e) {
        String master = spark.sparkContext().master();
        return new LayerscopeException("Spark stopped before the job could run with --master " + master
                + "; check --master and the --conf settings" + (master.startsWith("spark://")
                ? ", and that the master runs and this machine reaches it" : ""), e);
    }

    /** A single-layer job without --out writes its picture into the working directory: never over a file silently. */
    private void refuseExistingPictures(List<PrunableLayer> layers) {
        for (PrunableLayer l : layers) {
            Path png = o.output().pngDir().resolve(LayerResult.pngName(l.name()));
            if (Files.exists(png, LinkOption.NOFOLLOW_LINKS) && !(o.output().overwrite() && Files.isRegularFile(png, LinkOption.NOFOLLOW_LINKS))) {
                throw new LayerscopeException(png + " already exists; pass --overwrite to replace it, or --out DIR to"
                        + " write a results directory instead");
            }
        }
    }

    /** What --overwrite must never replace, by what it is: the model and the caches (see {@link ReplaceableResults}). */
    private Map<String, Path> keptPaths() {
        Map<String, Path> kept = new LinkedHashMap<>();
        kept.put("the model directory " + o.model().dir(), o.model().dir());
        Path home = HfCache.home(o.model().env());
        Path cache = HfCache.cacheDir(o.model().env(), home, o.model().cacheDir()).path();
        kept.put("the model cache " + cache, cache);
        Path hfCache = HfCache.defaultHubCache(o.model().env(), home);
        kept.put("the Hugging Face cache " + hfCache, hfCache);
        return kept;
    }

    private List<PrunableLayer> selectLayers(Checkpoint ckpt) {
        if (o.analysis().exactLayer()) {
            return List.of(ckpt.layer(o.analysis().layers()));
        }
        return LayerSelection.select(ckpt.prunableLayers(), o.analysis().layers());
    }

    private void checkCalibrationOptions(LlamaConfig c) {
        if (o.calibration().nsamples() < 1) {
            throw new LayerscopeException("--nsamples " + o.calibration().nsamples() + " must be at least 1");
        }
        long tokens = (long) o.calibration().nsamples() * Math.max(1, o.calibration().seqlen());
        long room = Runtime.getRuntime().maxMemory() / 2 / Integer.BYTES;
        if (tokens > room) {
            // the driver holds every window's token ids (and the calibration table) at once
            throw new LayerscopeException("--nsamples " + o.calibration().nsamples() + " x --seqlen "
                    + o.calibration().seqlen() + " is " + tokens + " calibration tokens, more than the driver's heap can"
                    + " hold (at most " + room + " with this heap); use fewer samples, or a larger driver heap"
                    + " (--driver-memory, or LAYERSCOPE_DRIVER_MEMORY)");
        }
        if (o.calibration().seqlen() < 2) {
            throw new LayerscopeException("--seqlen " + o.calibration().seqlen() + " must be at least 2");
        }
        if (o.calibration().seqlen() > c.maxPositionEmbeddings()) {
            throw new LayerscopeException("--seqlen " + o.calibration().seqlen() + " exceeds the model's max_position_embeddings "
                    + c.maxPositionEmbeddings() + "; use --seqlen " + c.maxPositionEmbeddings() + " or less");
        }
        if (o.calibration().batchSize() < 1) {
            throw new LayerscopeException("--batch-size " + o.calibration().batchSize() + " must be at least 1");
        }
        if (o.calibration().shards() < 0) {
            throw new LayerscopeException("--shards " + o.calibration().shards() + " must be 1 or more (0: one per executor core)");
        }
    }

    /** Wanda's get_c4 windows, on the driver (tokenizing a few thousand documents). */
    private List<CalibrationSample> sample(Checkpoint ckpt, SparkStartup startup) {
        long t = System.nanoTime();
        err.printf("calibration: %d samples x %d tokens, seed %d, from %s%n", o.calibration().nsamples(), o.calibration().seqlen(), o.calibration().seed(), o.calibration().source());
        source = CalibrationSources.resolve(o.calibration().source(), o.model().cacheDir(), o.model().env());
        List<CalibrationSample> samples;
        try (Documents docs = Documents.open(source.files())) {
            documents = docs.size();
            startup.throwIfFailed();
            err.printf("calibration: %d documents read in %.1f s; sampling windows%n", documents, seconds(t));
            long[] lastPrint = {System.nanoTime()};
            samples = new WandaSampler(docs, HuggingFaceTokenEncoder.forPath(ckpt.dir()))
                    .sample(o.calibration().nsamples(), o.calibration().seqlen(), o.calibration().seed(), done -> {
                        startup.throwIfFailed();   // a failed start ends the job now, not after sampling
                        if (System.nanoTime() - lastPrint[0] > 2_000_000_000L) {
                            lastPrint[0] = System.nanoTime();
                            err.printf("calibration sampling: %d/%d samples%n", done, o.calibration().nsamples());
                        }
                    });
        }
        timings.put("sampling", seconds(t));
        return samples;
    }

    /** What every executor needs to load the model and run the windows: blocks and taps of the selected layers. */
    private ModelSpec modelSpec(Checkpoint ckpt, List<PrunableLayer> layers) {
        LinkedHashSet<String> taps = new LinkedHashSet<>();
        layers.forEach(l -> taps.add(l.tapKey()));
        int lastBlock = LayerSelection.lastBlockNeeded(layers, ckpt.config().numHiddenLayers());
        return new ModelSpec(ckpt.dir().toAbsolutePath().toString(), o.calibration().dtype(), lastBlock, new ArrayList<>(taps),
                o.calibration().batchSize());
    }

    private CalibrationStage.Result calibrate(JavaSparkContext jsc, ModelSpec spec, List<CalibrationSample> samples) {
        List<int[]> windows = samples.stream().map(CalibrationSample::tokens).toList();
        int shards = CalibrationStage.shards(o.calibration().shards() > 0 ? o.calibration().shards()
                : jsc.defaultParallelism(), windows.size());
        err.printf("stage 1: %d samples in %d shards, blocks 0..%d, %d taps%n", windows.size(), shards, spec.lastBlock(),
                spec.tapKeys().size());
        CalibrationStage.Result r = CalibrationStage.run(jsc, spec, windows, shards, err);
        if (r.sums().nsamples() != windows.size()) {
            // the layers table's nsamples is this count; run.json's is the windows': they must agree
            throw new IllegalStateException("stage one summed " + r.sums().nsamples() + " calibration samples of "
                    + windows.size());
        }
        timings.put("stage1_calibration", r.seconds());
        timings.put("stage1_model_load", round(r.modelLoadSeconds()));
        return r;
    }

    private List<LayerResult> analyse(JavaSparkContext jsc, Checkpoint ckpt, List<PrunableLayer> layers,
                                      CalibrationStage.Result stage1) {
        TapSums sums = stage1.sums();
        Map<String, float[]> scalerRows = new LinkedHashMap<>();
        layers.forEach(l -> scalerRows.computeIfAbsent(l.tapKey(), sums::scalerRow));
        ActivationCheck.check(ckpt, layers, scalerRows, stage1.computeTypes());
        LayerStage.Settings settings = new LayerStage.Settings(ckpt.dir().toAbsolutePath().toString(), modelName(),
                o.calibration(), o.analysis(), sums.nsamples(), sums.ntokens(), o.output().pngSize());
        err.printf("stage 2: %d layers%n", layers.size());
        long t = System.nanoTime();
        List<LayerResult> results = LayerStage.run(jsc, settings, layers, scalerRows, err);
        timings.put("stage2_layers", seconds(t));
        return results;
    }

    /** The depth tables (docs/METRICS.md, blocks) from stage one's depth statistics. */
    private DepthResults depth(JavaSparkContext jsc, Checkpoint ckpt, List<PrunableLayer> layers, CalibrationStage.Result stage1) {
        long t = System.nanoTime();
        DepthResults d = DepthResults.compute(jsc, ckpt, layers, stage1.depth(), stage1.sums(), o.analysis());
        timings.put("depth", seconds(t));
        return d;
    }

    private String modelName() {
        return o.model().repoId() != null ? o.model().repoId() : o.model().spec();
    }

    private static double seconds(long since) {
        return round((System.nanoTime() - since) / 1e9);
    }

    /** Seconds to the millisecond, as run.json keeps them. */
    private static double round(double seconds) {
        return Math.round(seconds * 1e3) / 1e3;
    }
}
