package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.RealPaths;
import io.layerscope.calibration.CalibrationSample;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.Tap;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * A job's stage one (the dense forward over the calibration windows, {@link CalibrationStage}), or
 * its result from --calibration-cache: the entry of this very forward, or what the job needs of a
 * whole-model forward's entry. Records for run.json the shards it ran in and what it reused.
 */
final class StageOne {
    private final JobOptions o;
    /** --calibration-cache, or null without it. */
    private final CalibrationCache cache;
    private final Map<String, Double> timings;
    private final PrintStream err;
    /** Stage one's partitions: they group its float32 sums (for run.json, so a run can be reproduced to the bit). */
    private int shards;
    /** The cache entry stage one was read from instead of run, or null. */
    private RunRecord.StageOneReused reused;

    /** {@code timings}: the job's, where stage one's seconds are put. */
    StageOne(JobOptions o, CalibrationCache cache, Map<String, Double> timings, PrintStream err) {
        this.o = o;
        this.cache = cache;
        this.timings = timings;
        this.err = err;
    }

    int shards() {
        return shards;
    }

    RunRecord.StageOneReused reused() {
        return reused;
    }

    /** Stage one over {@code windows} with {@code spec}'s forward, or its result from --calibration-cache. */
    CalibrationStage.Result run(JavaSparkContext jsc, Checkpoint ckpt, ModelSpec spec, CalibrationWindows sampled,
                                String runId) {
        List<int[]> windows = sampled.samples().stream().map(CalibrationSample::tokens).toList();
        int shards = shards(o, jsc, windows.size());
        this.shards = shards;
        unsettledShards(jsc.getConf(), o.calibration().shards(), shards, windows.size()).ifPresent(err::println);
        long tc = System.nanoTime();
        String key = null;
        if (cache != null) {
            key = stageOneKey(ckpt, spec, shards, windows);
            Optional<CalibrationStage.Result> reused = reusedStageOne(ckpt, spec, shards, windows, key);
            if (reused.isPresent()) {
                timings.put("stage1_cache", RunSeconds.since(tc));
                return reused.get();
            }
            if (cache.readOnly()) {
                err.printf("stage 1: not in the calibration cache %s, which is not writable: it runs and is not kept%n",
                        cache.dir());
            } else {
                err.printf("stage 1: not in the calibration cache %s yet; it will be kept there%n", cache.dir());
            }
        }
        err.printf("stage 1: %d samples in %d shards, blocks 0..%d, %d taps%s%n", windows.size(), shards, spec.lastBlock(),
                spec.tapKeys().size(), o.analysis().depth() ? "" : ", no depth statistics (--no-depth)");
        double looked = (System.nanoTime() - tc) / 1e9;
        CalibrationStage.Result r = checkedCount(CalibrationStage.run(jsc, spec, windows, shards, err), windows.size());
        timings.put("stage1_calibration", RunSeconds.rounded(r.seconds()));
        timings.put("stage1_model_load", RunSeconds.rounded(r.modelLoadSeconds()));
        if (cache != null) {
            long ts = System.nanoTime();
            cache.store(key, runId, r, entryDescription(ckpt, spec, shards, sampled), err)
                    .ifPresent(f -> err.printf("stage 1: kept in %s%n", f));
            cache.trim(key, err);
            timings.put("stage1_cache", RunSeconds.rounded(looked + (System.nanoTime() - ts) / 1e9));
        }
        return r;
    }

    /** The calibration cache's key of stage one with {@code spec}'s forward, by this build and libtorch. */
    private static String stageOneKey(Checkpoint ckpt, ModelSpec spec, int shards, List<int[]> windows) {
        var v = RunRecords.versions();
        return CalibrationCache.key(ckpt, spec, shards, windows, RunRecords.build(),
                v.getProperty("pytorch", "?") + " " + v.getProperty("pytorch.native", "?"));
    }

    /**
     * Stage one's result from the cache: the entry of {@code key}, or else what the job needs from a
     * whole-model entry (its taps, and for a job with depth statistics those of its blocks);
     * recorded for run.json and named on standard error. Empty when neither is there.
     */
    private Optional<CalibrationStage.Result> reusedStageOne(Checkpoint ckpt, ModelSpec spec, int shards,
                                                             List<int[]> windows, String key) {
        String found = key;
        var hit = cache.find(key, err);
        CalibrationStage.Result reused = hit.map(CalibrationCache.Entry::result).orElse(null);
        if (hit.isEmpty()) {
            // the sums and the depth statistics of a block do not depend on how far the forward goes
            for (ModelSpec whole : wholeModelSpecs(ckpt, spec)) {
                if (spec.depth() && !whole.depth()) {
                    continue;
                }
                String wholeKey = stageOneKey(ckpt, whole, shards, windows);
                var entry = cache.find(wholeKey, err).filter(e -> e.result().sums().keys().containsAll(spec.tapKeys()));
                Optional<CalibrationStage.Result> cut = entry.flatMap(e -> spec.depth()
                        ? e.result().upTo(spec.tapKeys(), spec.lastBlock()) : Optional.of(e.result().tapsOnly(spec.tapKeys())));
                if (cut.isPresent()) {
                    found = wholeKey;
                    hit = entry;
                    reused = cut.get();
                    break;
                }
            }
        }
        if (hit.isEmpty()) {
            return Optional.empty();
        }
        CalibrationCache.Entry e = hit.get();
        boolean wider = !found.equals(key);
        CalibrationStage.Result r = checkedCount(reused, windows.size());
        Path file = cache.file(found);
        this.reused = new RunRecord.StageOneReused(file.toString(), e.createdAt(), e.runId(),
                RunSeconds.rounded(r.seconds()));
        String part = spec.depth() ? "the taps and depth statistics" : "the taps";
        err.printf("stage 1: reused from %s (%d samples%s, computed by run %s at %s in %.1f s)%n", file,
                r.sums().nsamples(), wider ? ", " + part + " of blocks 0.." + spec.lastBlock() + " of a whole-model forward" : "",
                e.runId(), e.createdAt(), r.seconds());
        cache.trim(found, err);
        return Optional.of(r);
    }

    /** What a calibration cache entry was computed from, in words, for whoever tidies the cache. */
    private Map<String, Object> entryDescription(Checkpoint ckpt, ModelSpec spec, int shards, CalibrationWindows sampled) {
        Map<String, Object> about = new LinkedHashMap<>();
        about.put("model", o.model().spec());
        about.put("modelDirectory", ckpt.dir().toAbsolutePath().normalize().toString());
        about.put("calibration", sampled.source().name());
        about.put("nsamples", o.calibration().nsamples());
        about.put("seqlen", o.calibration().seqlen());
        about.put("seed", o.calibration().seed());
        about.put("dtype", o.calibration().dtype().name().toLowerCase(Locale.ROOT));
        about.put("batchSize", spec.batchSize());
        about.put("shards", shards);
        about.put("blocks", spec.lastBlock() + 1);
        about.put("depthStatistics", spec.depth());
        about.put("layerscope", RunRecords.build());
        return about;
    }

    /**
     * The forwards over every block, with the final norm's tap, that a sweep of every layer runs (with
     * and without the depth statistics), other than {@code spec} itself.
     */
    private List<ModelSpec> wholeModelSpecs(Checkpoint ckpt, ModelSpec spec) {
        int last = ckpt.config().numHiddenLayers() - 1;
        return Stream.of(true, false).map(d -> modelSpec(o, ckpt, last, true, d))
                .filter(w -> !w.equals(spec)).toList();
    }

    /** The layers table's nsamples is the sums' count; run.json's is the windows': they must agree. */
    private static CalibrationStage.Result checkedCount(CalibrationStage.Result r, int windows) {
        if (r.sums().nsamples() != windows) {
            throw new IllegalStateException("stage one summed " + r.sums().nsamples() + " calibration samples of " + windows);
        }
        return r;
    }

    /**
     * What every executor needs to load the model and run the windows: blocks 0..lastBlock with all
     * four taps of each (their sums are small, and the blocks table's OWL ratios need every Linear
     * of a block), the final norm's when {@code head}, and the depth statistics when {@code depth}.
     */
    static ModelSpec modelSpec(JobOptions o, Checkpoint ckpt, int lastBlock, boolean head, boolean depth) {
        List<String> taps = new ArrayList<>();
        for (int b = 0; b <= lastBlock; b++) {
            for (Tap t : new Tap[] {Tap.ATTN_IN, Tap.ATTN_OUT, Tap.MLP_IN, Tap.MLP_ACT}) {
                taps.add(t.key(b));
            }
        }
        if (head) {
            taps.add(Tap.FINAL_NORM.key(-1));
        }
        return new ModelSpec(ckpt.dir().toAbsolutePath().toString(), o.calibration().dtype(), lastBlock, taps,
                o.calibration().batchSize(), depth, o.analysis().statsDevice());
    }

    /** --calibration-cache, checked before anything starts; never inside a directory the run replaces whole. */
    static CalibrationCache openCache(JobOptions o) {
        if (o.calibration().cache() == null) {
            return null;
        }
        Path dir = Path.of(o.calibration().cache());
        Map<String, Path> replaced = new LinkedHashMap<>();
        replaced.put("--out", o.output().out());
        replaced.put("--save-pruned", o.output().savePruned());
        replaced.forEach((option, p) -> {
            if (p != null && RealPaths.of(dir).startsWith(RealPaths.of(p))) {
                throw new LayerscopeException("--calibration-cache " + dir + " is inside " + option + " " + p + ", which"
                        + " the run writes as a whole; keep the cache in a directory of its own");
            }
        });
        JobChecks.refuseInsideEarlierOutput("--calibration-cache", dir);
        return CalibrationCache.open(dir, o.calibration().cacheSize());
    }

    /** Stage one's shards: --shards, or one per executor core or GPU slot; at most one per window. */
    static int shards(JobOptions o, JavaSparkContext jsc, int samples) {
        int otherwise = LocalDevice.defaultShards(jsc.defaultParallelism());
        return CalibrationStage.shards(o.calibration().shards() > 0 ? o.calibration().shards() : otherwise, samples);
    }

    /**
     * A standalone master without --total-executor-cores (spark.cores.max) gives Spark no count of
     * cores to wait for, so the default shard count comes from the executor cores registered when
     * stage one starts, which may be some of the cluster's. The sums' last bits and the calibration
     * cache's key depend on it: a note says how to pin it. Empty elsewhere, with --shards or
     * spark.default.parallelism, or when the windows, fewer than the cores, set the count.
     */
    static Optional<String> unsettledShards(org.apache.spark.SparkConf conf, int shardsOption, int shards, int windows) {
        if (!conf.get("spark.master", "").startsWith("spark://") || conf.contains("spark.cores.max") || shardsOption > 0
                || conf.contains("spark.default.parallelism") || shards >= windows) {
            return Optional.empty();
        }
        return Optional.of("note: stage 1 takes " + shards + " shards, from the executor cores registered by now: without"
                + " --total-executor-cores the standalone master gives no count to wait for; pass --total-executor-cores N"
                + " (or --shards N) so that the shards, and the sums' last bits, do not depend on how fast executors"
                + " register");
    }
}
