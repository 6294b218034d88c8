package io.layerscope.spark;

import ai.djl.Device;
import io.layerscope.llama.IntraOpThreads;
import io.layerscope.llama.LlamaModel;
import io.layerscope.stats.GramSums;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.util.LongAccumulator;

/**
 * One pass of --gram over the calibration windows: the executors run the (cached) model up to the
 * last block the pass's taps need and sum each tap's Gram matrix over their shard; the driver adds
 * the shards' matrices as they arrive, so it holds the merged group and at most a few partial ones.
 */
final class GramStage {
    private GramStage() {
    }

    /** {@code threads}: libtorch's intra-op threads for each task, at least the executor's own setting. */
    static GramSums run(JavaSparkContext jsc, ModelSpec spec, List<int[]> windows, int shards, List<String> taps,
                        int threads, String label, PrintStream err) {
        LongAccumulator samples = jsc.sc().longAccumulator("layerscope.gram.samples");
        LongAccumulator tokens = jsc.sc().longAccumulator("layerscope.gram.tokens");
        StageProgress progress = new StageProgress(label, "samples", windows.size(), samples, tokens, err);
        jsc.sc().addSparkListener(progress);
        try {
            progress.follow(jsc, "layerscope " + label + ": Gram matrices of " + taps.size() + " taps over "
                    + windows.size() + " samples");
            GramSums sums = jsc.parallelize(windows, CalibrationStage.shards(shards, windows.size()))
                    .mapPartitions(new PassTask(spec, taps, threads, samples, tokens))
                    .reduce(GramSums::merge);
            progress.finish();
            if (sums.nsamples() != windows.size()) {
                throw new IllegalStateException(label + " summed " + sums.nsamples() + " calibration samples of "
                        + windows.size());
            }
            return sums;
        } finally {
            jsc.sc().removeSparkListener(progress);
        }
    }

    /** Runs on an executor: one shard's windows, {@code spec.batchSize()} at a time. */
    static final class PassTask implements FlatMapFunction<Iterator<int[]>, GramSums> {
        private static final long serialVersionUID = 1L;
        private final ModelSpec spec;
        private final List<String> taps;
        private final int threads;
        private final LongAccumulator samples;
        private final LongAccumulator tokens;

        PassTask(ModelSpec spec, List<String> taps, int threads, LongAccumulator samples, LongAccumulator tokens) {
            this.spec = spec;
            this.taps = taps;
            this.threads = threads;
            this.samples = samples;
            this.tokens = tokens;
        }

        @Override
        public Iterator<GramSums> call(Iterator<int[]> windows) {
            return HeapExhaustion.guard(() -> "a pass of --gram (the Gram matrices)", () -> pass(windows));
        }

        private Iterator<GramSums> pass(Iterator<int[]> windows) {
            Device device = ExecutorResources.taskDevice();
            try (ExecutorResources.ModelLease lease = ExecutorResources.model(spec, device);
                 IntraOpThreads widened = IntraOpThreads.atLeast(threads)) {
                SweepHooks.inTask().taskStarts("gram");
                LlamaModel model = lease.model();
                // one call for the shard: the sums are added on the device and copied to the heap once,
                // not once per batch (a pass's matrices may take most of the task's memory)
                List<int[]> shard = new ArrayList<>();
                windows.forEachRemaining(shard::add);
                GramSums sums = model.forward(shard, null, spec.batchSize(), List.of(), false, taps,
                        StageProgress.windowsDone(shard, samples, tokens)).grams();
                return List.of(sums).iterator();
            }
        }
    }
}
