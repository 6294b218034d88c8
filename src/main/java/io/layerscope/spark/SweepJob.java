package io.layerscope.spark;

import io.layerscope.results.LayerResult;
import io.layerscope.LayerscopeException;
import io.layerscope.calibration.CalibrationSample;
import io.layerscope.hub.ConsoleProgress;
import io.layerscope.hub.Sha256Cache;
import io.layerscope.llama.GramArrays;
import io.layerscope.llama.TapSums;
import io.layerscope.llamacpp.ImportanceMatrix;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.HfCache;
import io.layerscope.plot.PictureSize;
import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.PrunedCheckpointWriter;
import io.layerscope.results.BlockResult;
import io.layerscope.model.TokenizerVocabulary;
import io.layerscope.results.Provenance;
import io.layerscope.stats.GramSums;
import io.layerscope.stats.TapGram;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;
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
    public record Outcome(List<LayerResult> layers, List<BlockResult> blocks, List<CalibrationSample> samples,
                          CalibrationStage.Result stage1, Map<String, Double> timings, Path written) {
    }

    /**
     * Which decoder blocks a job runs: stage one's dense forward covers blocks 0..lastBlock (all of
     * them when the whole model is pruned or OWL allocates over it); sequential mode prunes blocks
     * 0..lastRound (0..lastBlock when it writes the depth tables, which then cover the same blocks
     * on the pruned stream as the dense ones do).
     */
    record Coverage(int lastBlock, int lastRound, boolean head) {
    }

    /** What the analysis produced, for the writer. */
    private record Analysed(List<LayerResult> layers, List<BlockResult> blocks, DepthResults depth) {
    }

    private final JobOptions o;
    private final PrintStream err;
    private final Map<String, Double> timings = new LinkedHashMap<>();
    /** The calibration windows, once sampled or read. */
    private CalibrationWindows windows;
    private RunRecord.Gram gramRecord;
    /** --gram's passes, planned as soon as Spark is up (null without --gram). */
    private GramPlan gramPlan;
    /** What each layer's result goes through as it reaches the driver: with --out, its picture is written out. */
    private UnaryOperator<LayerResult> pictures = UnaryOperator.identity();
    /** --calibration-cache (null without it). */
    private CalibrationCache calibrationCache;
    /** Stage one, once Spark is up. */
    private StageOne stageOne;

    /** Spark's words for a job ended by cancelAllJobs: "Job 3 cancelled as part of cancellation of all jobs". */
    private static final java.util.regex.Pattern CANCELLED = java.util.regex.Pattern.compile("cancellation of all jobs");

    public SweepJob(JobOptions options, PrintStream err) {
        this.o = options;
        this.err = err;
    }

    public Outcome run() {
        io.layerscope.KeptOutputs.begin();
        // before anything is read or written: a --device this job cannot use is a mistake in the command
        try (LocalDevice.Scope scope = LocalDevice.use(LocalDevice.check(o.calibration().device()))) {
            return runHere();
        } catch (Exception e) {   // Spark's checked exceptions are thrown undeclared
            // a job the start failures cancelled, whatever it says (a warm-up's cancellation reads as Spark's
            // failing to start); any other failure is its own, though executors failed to start before it
            Optional<String> notStarting = Setbacks.executorsNotStarting();
            if (notStarting.isPresent() && CauseMessages.find(e, CANCELLED) != null) {
                throw new LayerscopeException(notStarting.get(), e);
            }
            throw e;
        }
    }

    private Outcome runHere() {
        long t0 = System.nanoTime();
        Setbacks.Mark setbacks = Setbacks.mark();   // this job's, in a context another may have used
        Checkpoint ckpt = Checkpoint.open(o.model().dir());
        List<PrunableLayer> layers = selectLayers(ckpt);
        JobChecks.calibration(o.calibration(), ckpt.config());
        Coverage coverage = coverage(ckpt, layers);
        JobChecks.pruning(o.analysis(), ckpt, coverage.lastBlock(), layers,
                o.analysis().sequential() || o.output().savePruned() != null);
        String device = o.calibration().device();
        JobChecks.sequentialBatch(o.calibration(), ckpt.config(), o.analysis().sequential(),
                LocalDevice.isLocal(System.getProperty("spark.master", SparkSessions.DEFAULT_MASTER))
                        && (device == null || device.equals("cpu")));
        JobChecks.refuseNestedOutputs(o.output().out(), o.output().savePruned(), o.output().imatrix());
        StandaloneMaster.refuseUnreachable(System.getProperty("spark.master"));
        calibrationCache = StageOne.openCache(o);
        // the calibration stage would find a foreign tokenizer only inside Spark, after the model loaded
        TokenizerVocabulary.check(ckpt.dir().resolve("tokenizer.json"), ckpt.config().vocabSize(), "config.json");
        ModelSpec spec = modelSpec(ckpt, coverage);
        ShippedModel shipped = o.calibration().shipModel() ? ShippedModel.of(ckpt, err) : null;
        ImportanceMatrix imatrix = o.output().imatrix() == null ? null
                : ImportanceMatrix.prepare(o.output().imatrix(), o.output().overwrite(), keptPaths());
        ResultsDirectory out;
        try {
            out = o.output().out() == null ? null : ResultsDirectory.create(o.output().out(), o.output().overwrite(), keptPaths());
            if (out == null) {
                refuseExistingPictures(layers);
            }
        } catch (RuntimeException e) {
            if (imatrix != null) {
                imatrix.close();   // its lock
            }
            throw e;
        }
        ResultsDirectory pruned = null;
        try (WeightHashes hashes = out == null ? null : WeightHashes.start(ckpt,
                Sha256Cache.forEnvironment(o.model().env()))) {
            pruned = prunedCheckpointDirectory(out);
            timings.put("resolve", RunSeconds.since(t0));
            Provenance provenance = RunRecords.provenance(o);
            // Spark starts and the executors load the model while the driver samples the windows.
            long ts = System.nanoTime();
            // the throwaway pictures pay off only where the job draws more of its own
            PictureSize warmPictures = layers.size() > PictureWarmUp.PICTURES ? o.output().pngSize() : null;
            SparkStartup startup = SparkStartup.begin("layerscope " + o.command(), spec, o.calibration().seqlen(),
                    HugePageAllocation.executorSetting(o.calibration().seqlen(), spec.batchSize(), o.analysis().gram()),
                    warmPictures, calibrationCache == null, shipped);
            try {
                windows = CalibrationWindows.of(o, ckpt, startup, provenance.runId(), err);
            } catch (RuntimeException | Error e) {
                startup.abandon();
                throw e;
            }
            timings.put("sampling", windows.seconds());
            List<CalibrationSample> samples = windows.samples();
            SparkSession spark = startup.session(err);
            timings.put("spark_start", RunSeconds.rounded(startup.sessionSeconds()));
            timings.put("startup", RunSeconds.since(ts));
            ResultsWriter writer = out == null ? null : new ResultsWriter(spark, out, provenance);
            if (writer != null) {
                // each picture into the results as its layer's result arrives, not all on the heap until the end
                pictures = r -> {
                    try {
                        return writer.writePicture(r);
                    } catch (IOException e) {
                        throw OutputCommit.writeFailure(out.target(), e);
                    }
                };
            }
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            GpuStatisticsPlaces.configured(jsc.getConf());   // bad settings fail before stage one
            Setbacks.startFailureLimit(jsc.getConf());
            if (o.analysis().sequential()) {
                SequentialStage.statesStorage(jsc.getConf());   // bad settings fail before stage one
                StatesCheckpoints.every(jsc.getConf());
            }
            if (o.analysis().gram() && !o.analysis().sequential()) {
                // before stage one: a plan the executors' heap cannot hold fails now, not a minute later
                gramPlan = GramPlan.make(layers, o.analysis().gramMemory(),
                        GramPlan.tasksPerExecutor(jsc.getConf(), jsc.defaultParallelism()), GramPlan.executorHeap(jsc.getConf()),
                        GramPlan.local(jsc.getConf()));
                if (gramPlan.fewer() != null) {
                    err.println(gramPlan.fewer());
                }
            }
            CalibrationStage.Result stage1;
            Analysed analysed;
            startup.awaitWarmUpSubmitted();
            // a job Spark loses as its context stops would otherwise be waited for for ever
            if (spark.sparkContext().isStopped()) {
                throw stopped(spark, new IllegalStateException("Spark stopped its context before stage one"), true);
            }
            try (ContextStopWatch watch = ContextStopWatch.interrupting(spark.sparkContext()::isStopped,
                    Thread.currentThread())) {
                try {
                    stageOne = new StageOne(o, calibrationCache, timings, err);
                    stage1 = stageOne.run(jsc, ckpt, spec, windows, provenance.runId());
                } catch (Exception e) {
                    // A context Spark stops under the first job (a master that never answered) fails it with an
                    // IllegalStateException, or with a SparkException (checked, thrown undeclared) when the stop
                    // lands while the job's first tasks are serialised; the job's own errors pass as they are.
                    if (watch.fired() || spark.sparkContext().isStopped() && !(e instanceof LayerscopeException)) {
                        watch.close();   // its interrupt cleared: the executor losses are awaited below
                        throw stopped(spark, e, true);
                    }
                    throw e;
                }
                startup.warmUpSeconds().ifPresent(s -> timings.put("executor_warmup", RunSeconds.rounded(s)));
                SweepHooks.onDriver(jsc.sc()).calibrationDone(jsc.sc());
                try {
                    analysed = analyse(jsc, ckpt, layers, coverage, samples, stage1, pruned, depthTables());
                } catch (Exception e) {   // Spark's checked exceptions are thrown undeclared
                    if (watch.fired()) {
                        watch.close();
                        throw stopped(spark, e, false);
                    }
                    throw e;
                }
            }
            List<LayerResult> results = analysed.layers();
            DepthResults depth = analysed.depth();
            long tw = System.nanoTime();
            if (imatrix != null) {
                imatrix.write(layers, stage1.sums(), o.calibration().seqlen(), windows.source().name() + " (" + samples.size()
                        + " windows of " + o.calibration().seqlen() + " tokens, seed " + o.calibration().seed() + ")");
                if (o.analysis().mode() == PruneMode.SEQUENTIAL || o.output().savePruned() != null) {
                    err.println(OutputCommit.unprunedImatrixNote(imatrix.target(), o.output().savePruned()));
                }
            }
            Path written = null;
            RuntimeException outFailure = null;
            try {
                if (out != null) {
                    Instant created = Instant.now();
                    // once, for the report's header and run.json alike: the executors are done with by now
                    Setbacks.awaitListeners(spark.sparkContext(), 2000);
                    List<String> lost = Setbacks.lostSince(setbacks);
                    List<String> failed = Setbacks.failedSince(setbacks);
                    // the report's draft (no weight hashes yet) and run.json, made alike
                    java.util.function.Function<Map<Path, String>, RunRecord> record = sha256 -> RunRecords.of(o,
                            windows.source(), windows.documents(), ckpt, layers, samples, stage1, timings, spark, sha256,
                            provenance, analysed.blocks(), created).withGram(gramRecord).withStageOneReused(stageOne.reused())
                            .withStageOne(windows.remembered(), stageOne.shards()).withSetbacks(lost, failed);
                    writer.write(results, samples, depth, analysed.blocks(), record.apply(Map.of()), () -> {
                        Map<Path, String> sha256 = hashes.get();
                        timings.put("write", RunSeconds.since(tw));
                        timings.put("total", RunSeconds.since(t0));
                        return record.apply(sha256);
                    });
                    written = out.target();
                } else {
                    written = ResultsWriter.writePngs(results, o.output().pngDir());
                }
            } catch (Exception | org.apache.hadoop.fs.FSError e) {
                // the other outputs are complete: they are still put in place, and the failure says so
                outFailure = OutputCommit.writeFailure(out == null ? o.output().pngDir() : out.target(), e);
            }
            OutputCommit.commit(outFailure == null ? out : null, imatrix, pruned, out == null ? written : null, outFailure, err);
            timings.put("write", RunSeconds.since(tw));
            timings.put("total", RunSeconds.since(t0));
            return new Outcome(results, analysed.blocks(), samples, stage1, timings, written);
        } finally {
            if (pruned != null) {
                pruned.close();
            }
            if (out != null) {
                out.close();
            }
            if (imatrix != null) {
                imatrix.close();
            }
        }
    }

    /**
     * Spark stopped its context under the job: executors killed for their memory until Spark gave up
     * (YARN, Kubernetes), else, {@code beforeTheJob}, a standalone master that never answered, giving
     * up after the session started (Ctrl-C is reported before this by the command line, which checks first).
     */
    static LayerscopeException stopped(SparkSession spark, Exception e, boolean beforeTheJob) {
        LayerscopeException memory = ContainerMemoryLimit.explainExecutorLosses(e);
        if (memory != null) {
            return memory;
        }
        String master = spark.sparkContext().master();
        return new LayerscopeException((beforeTheJob ? "Spark stopped before the job could run with --master "
                : "Spark stopped its context while the job ran with --master ") + master + SparkStartup.whatToCheck(master), e);
    }

    /** A single-layer job without --out writes its picture into the working directory: never over a file silently. */
    private void refuseExistingPictures(List<PrunableLayer> layers) {
        // now, not after the forward: the directory (or the nearest existing one above it, where the job
        // makes it) must be one this process can write
        Path dir = o.output().pngDir().toAbsolutePath().normalize();
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !Files.isDirectory(existing) || !Files.isWritable(existing)) {
            throw new LayerscopeException("cannot write the picture to " + dir + ": " + (existing == null ? "" : existing
                    + " is not a writable directory") + "; run from a writable directory, or pass --out DIR");
        }
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
        List<PrunableLayer> chosen = LayerSelection.select(ckpt.prunableLayers(), o.analysis().layers());
        if (o.analysis().layers() != null && !o.analysis().layers().isEmpty()) {
            // which ones: a pattern such as layers.1. matches layers 10-19 too
            err.println(LayerSelection.describe(o.analysis().layers(), chosen, ckpt.prunableLayers().size()));
        }
        return chosen;
    }

    /** Stage one's forward for the blocks the job covers, with the final norm's tap when lm_head is analysed. */
    private ModelSpec modelSpec(Checkpoint ckpt, Coverage c) {
        // sequential mode's depth statistics come from its own passes over the pruned stream
        return StageOne.modelSpec(o, ckpt, c.lastBlock(), c.head(), depthTables() && !o.analysis().sequential());
    }

    /** Whether the run writes the depth tables: it writes results, and --no-depth is not given. */
    private boolean depthTables() {
        return o.output().out() != null && o.analysis().depth();
    }

    private Coverage coverage(Checkpoint ckpt, List<PrunableLayer> layers) {
        int blocks = ckpt.config().numHiddenLayers();
        boolean head = layers.stream().anyMatch(l -> l.kind() == LayerKind.LM_HEAD);
        int needed = LayerSelection.lastBlockNeeded(layers, blocks);
        boolean whole = o.output().savePruned() != null || o.analysis().allocation().owl();
        int lastBlock = whole ? blocks - 1 : needed;
        boolean seqDepth = o.analysis().sequential() && depthTables();
        return new Coverage(lastBlock, o.output().savePruned() != null || seqDepth ? lastBlock : needed, head);
    }

    /** The pruned checkpoint's staging directory, or null without --save-pruned; never the model, the caches or --out. */
    private ResultsDirectory prunedCheckpointDirectory(ResultsDirectory out) {
        Path save = o.output().savePruned();
        if (save == null) {
            return null;
        }
        Map<String, Path> kept = keptPaths();
        if (out != null) {
            kept.put("the results directory " + o.output().out(), out.target());
        }
        return ResultsDirectory.create(ResultsDirectory.Kind.PRUNED_CHECKPOINT, save, o.output().overwrite(), kept);
    }

    private Analysed analyse(JavaSparkContext jsc, Checkpoint ckpt, List<PrunableLayer> layers, Coverage coverage,
                             List<CalibrationSample> samples, CalibrationStage.Result stage1, ResultsDirectory pruned,
                             boolean depthTables) {
        TapSums sums = stage1.sums();
        Map<String, float[]> denseRows = new LinkedHashMap<>();
        sums.keys().forEach(k -> denseRows.put(k, sums.scalerRow(k)));
        Map<String, float[]> scalerRows = new LinkedHashMap<>();
        layers.forEach(l -> scalerRows.computeIfAbsent(l.tapKey(), denseRows::get));
        ActivationCheck.check(ckpt, layers, scalerRows, stage1.computeTypes());
        JobOptions.Analysis a = o.analysis();
        long tb = System.nanoTime();
        int blocks = coverage.lastBlock() + 1;
        BlockPlan plan = BlockPlan.make(jsc, ckpt, blocks, denseRows, a,
                !a.sequential() && BlockPlan.coversBlocks(ckpt, blocks, layers));
        timings.put("block_ratios", RunSeconds.since(tb));
        plan.allocation().ifPresent(s -> err.printf("allocation: OWL at M %s, lambda %s: block sparsities %s%n",
                a.allocation().owlM(), a.allocation().lambda(), s));
        // the per-layer statistics count how much each Wanda row mask prunes of the outlier features' columns:
        // in sequential mode those are known only after the rounds, so every column is counted
        OutlierColumns outlierColumns = !depthTables || a.pattern().structured() ? OutlierColumns.NONE
                : a.sequential() ? OutlierColumns.ALL : DepthResults.outlierColumns(stage1.depth(), a);
        LayerStage.Settings settings = new LayerStage.Settings(ckpt.dir().toAbsolutePath().toString(), modelName(),
                o.calibration(), a, sums.nsamples(), sums.ntokens(), o.output().pngSize(), plan.sparsity(), plan.thresholds(),
                outlierColumns);
        // each block's file is a step of the directory's: an interrupt waits for it, then deletes the directory;
        // a failure (a full disk) is told here, as the final files' are, not as the rounds' unexpected error
        PrunedCheckpointWriter writer = pruned == null ? null
                : new PrunedCheckpointWriter(ckpt, pruned.staging(), w -> {
                    try {
                        pruned.write(staging -> w.run());
                    } catch (IOException e) {
                        throw OutputCommit.writeFailure(pruned.target(), "the pruned model", "--save-pruned", e);
                    }
                });
        long t = System.nanoTime();
        List<LayerResult> results;
        double[] actual = null;
        DepthResults depth = null;
        ModelSpec spec = modelSpec(ckpt, coverage);
        SequentialStage sequential = new SequentialStage(jsc, spec, settings, ckpt, pictures, stage1.computeTypes(), err);
        if (a.sequential()) {
            err.printf("stage 2 (sequential): blocks 0..%d pruned in order, %d layer%s analysed%n", coverage.lastRound(),
                    layers.size(), layers.size() == 1 ? "" : "s");
            List<int[]> windows = samples.stream().map(CalibrationSample::tokens).toList();
            SequentialStage.Result r = sequential.run(windows, StageOne.shards(o, jsc, windows.size()), coverage.lastRound(),
                    layers, denseRows, writer, depthTables);
            results = r.layers();
            actual = r.sparsityActual();
            timings.put("stage2_sequential", RunSeconds.since(t));
            if (depthTables) {
                long td = System.nanoTime();
                depth = DepthResults.compute(jsc, ckpt, layers, r.depth(),
                        DepthResults.sequential(r.scalerRows(), plan.sparsity()), r.scalerRows(), a, results);
                timings.put("depth", RunSeconds.since(td));
            }
        } else if (a.gram()) {
            results = analyseWithGrams(jsc, spec, ckpt.config().numHiddenLayers(), settings, layers, scalerRows, samples);
        } else {
            err.printf("stage 2: %d %s%n", layers.size(), layers.size() == 1 ? "layer" : "layers");
            results = LayerStage.run(jsc, settings, layers, scalerRows, true, pictures, err);
            timings.put("stage2_layers", RunSeconds.since(t));
            if (writer != null) {
                long tp = System.nanoTime();
                sequential.oneShot(coverage.lastRound(), denseRows, writer);
                timings.put("prune_one_shot", RunSeconds.since(tp));
            }
        }
        if (depthTables && !a.sequential()) {
            // after the per-layer stage, whose statistics counted the outlier columns' pruned rows; the masks
            // prune as the run does: each block at its sparsity of the plan
            depth = depth(jsc, ckpt, layers, stage1, plan.sparsity(), results);
        }
        if (writer != null) {
            try {
                pruned.write(dir -> writer.finish(PrunedProvenance.of(o, ckpt, plan.sparsity())));
            } catch (IOException e) {
                throw OutputCommit.writeFailure(pruned.target(), "the pruned model", "--save-pruned", e);
            }
        }
        return new Analysed(results, plan.counted(ckpt, results).rows(actual), depth);
    }

    /**
     * --gram: per pass of the {@link GramPlan}, the Gram matrices of its taps over the calibration
     * windows, then the per-layer stage of the layers reading those taps with them; each group is
     * dropped before the next pass.
     */
    private List<LayerResult> analyseWithGrams(JavaSparkContext jsc, ModelSpec spec, int blocks, LayerStage.Settings settings,
                                               List<PrunableLayer> layers, Map<String, float[]> scalerRows,
                                               List<CalibrationSample> samples) {
        GramPlan plan = gramPlan;
        int tasks = plan.tasks();
        List<int[]> windows = samples.stream().map(CalibrationSample::tokens).toList();
        int shards = plan.passShards(StageOne.shards(o, jsc, windows.size()));
        // a task's own libtorch threads: local mode's JVM-wide setting, a cluster task's cores
        int taskThreads = GramPlan.local(jsc.getConf()) ? ExecutorResources.libtorchThreads()
                : Math.max(1, jsc.getConf().getInt("spark.task.cpus", 1));
        int threads = plan.passThreads(jsc.defaultParallelism(), taskThreads);
        int taps = plan.groups().stream().mapToInt(List::size).sum();
        err.printf("stage 2 (--gram): %d layer%s, Gram matrices of %d tap%s in %d pass%s (%s a pass%s, %d task%s"
                + " per executor%s)%n", layers.size(), layers.size() == 1 ? "" : "s", taps, taps == 1 ? "" : "s",
                plan.passes(), plan.passes() == 1 ? "" : "es", ConsoleProgress.bytes(plan.budget()),
                plan.budget() < o.analysis().gramMemory() ? ", --gram-memory " + ConsoleProgress.bytes(o.analysis()
                        .gramMemory()) + " capped at a quarter of the heap" : "",
                tasks, tasks == 1 ? "" : "s",
                threads == taskThreads ? "" : ", " + threads + " libtorch threads each");
        List<LayerResult> results = new ArrayList<>();
        double passSeconds = 0;
        double layerSeconds = 0;
        double worstDiagonal = 0;
        int passTasks = 0;
        int resumed = 0;
        String chainId = UUID.randomUUID().toString();
        Map<Integer, String> keptAt = Map.of();
        try {
            for (int g = 0; g < plan.passes(); g++) {
                long tp = System.nanoTime();
                String label = "gram pass " + (g + 1) + "/" + plan.passes();
                GramStage.Result pass = GramStage.run(jsc, spec, windows, shards, plan.groups().get(g),
                        plan.chain(chainId, g, blocks), keptAt, threads, label, err);
                keptAt = pass.keptAt();
                if (pass.keepFailure() != null) {
                    err.println(label + ": could not keep the residual stream for the next pass (" + pass.keepFailure()
                            + "); its tasks there start from the embedding");
                }
                passTasks += pass.tasks();
                resumed += pass.resumed();
                GramSums grams = pass.sums();
                for (String key : grams.keys()) {
                    worstDiagonal = Math.max(worstDiagonal,
                            TapGram.diagonalDifference(grams.matrix(key), grams.nsamples(), scalerRows.get(key)));
                }
                passSeconds += (System.nanoTime() - tp) / 1e9;
                long tl = System.nanoTime();
                results.addAll(LayerStage.run(jsc, settings, plan.layersOf(g, layers), scalerRows, grams,
                        g == plan.passes() - 1, pictures, err));
                if (jsc.sc().isLocal()) {
                    // the pass's tasks and the layers' ran in this JVM, and the layers are done with them
                    GramArrays.recycle(grams);
                }
                layerSeconds += (System.nanoTime() - tl) / 1e9;
            }
        } finally {
            // local mode's executor is this JVM: nothing kept outlives the passes, even when one fails
            KeptStates.forget(chainId);
            GramArrays.clear();
        }
        timings.put("gram_passes", RunSeconds.rounded(passSeconds));
        timings.put("stage2_layers", RunSeconds.rounded(layerSeconds));
        gramRecord = new RunRecord.Gram(plan.passes(), plan.groups(), plan.budget(), tasks, threads, passTasks, resumed,
                worstDiagonal);
        return LayerStage.inOrderOf(layers, results);
    }

    /** The depth tables (docs/METRICS.md, blocks) from stage one's depth statistics. */
    private DepthResults depth(JavaSparkContext jsc, Checkpoint ckpt, List<PrunableLayer> layers, CalibrationStage.Result stage1,
                               double[] blockSparsity, List<LayerResult> analysed) {
        long t = System.nanoTime();
        DepthResults d = DepthResults.compute(jsc, ckpt, layers, stage1.depth(), stage1.sums(), o.analysis(), blockSparsity,
                analysed);
        timings.put("depth", RunSeconds.since(t));
        return d;
    }

    private String modelName() {
        return o.model().repoId() != null ? o.model().repoId() : o.model().spec();
    }
}
