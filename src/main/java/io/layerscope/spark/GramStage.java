package io.layerscope.spark;

import ai.djl.Device;
import io.layerscope.llama.LlamaModel;
import io.layerscope.stats.GramSums;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

    static GramSums run(JavaSparkContext jsc, ModelSpec spec, List<int[]> windows, int shards, List<String> taps,
                        String label, PrintStream err) {
        LongAccumulator samples = jsc.sc().longAccumulator("layerscope.gram.samples");
        LongAccumulator tokens = jsc.sc().longAccumulator("layerscope.gram.tokens");
        StageProgress progress = new StageProgress(label, "samples", windows.size(), samples, tokens, err);
        jsc.sc().addSparkListener(progress);
        try {
            progress.follow(jsc, "layerscope " + label + ": Gram matrices of " + taps.size() + " taps over "
                    + windows.size() + " samples");
            GramSums sums = jsc.parallelize(windows, CalibrationStage.shards(shards, windows.size()))
                    .mapPartitions(new PassTask(spec, taps, samples, tokens))
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
        private final LongAccumulator samples;
        private final LongAccumulator tokens;

        PassTask(ModelSpec spec, List<String> taps, LongAccumulator samples, LongAccumulator tokens) {
            this.spec = spec;
            this.taps = taps;
            this.samples = samples;
            this.tokens = tokens;
        }

        @Override
        public Iterator<GramSums> call(Iterator<int[]> windows) {
            SweepHooks.inTask().taskStarts("gram");
            Device device = ExecutorResources.taskDevice();
            LlamaModel model = ExecutorResources.model(spec, device);
            // added in place: a pass's matrices may take most of the task's memory, so no copies per batch
            Map<String, double[]> sums = new LinkedHashMap<>();
            long count = 0;
            List<int[]> batch = new ArrayList<>(spec.batchSize());
            while (windows.hasNext()) {
                batch.add(windows.next());
                if (batch.size() == spec.batchSize() || !windows.hasNext()) {
                    GramSums part = model.forwardGrams(batch, spec.batchSize(), taps);
                    for (String key : part.keys()) {
                        double[] g = part.matrix(key);
                        double[] total = sums.putIfAbsent(key, g);
                        if (total != null) {
                            for (int e = 0; e < g.length; e++) {
                                total[e] += g[e];
                            }
                        }
                    }
                    count += part.nsamples();
                    samples.add(batch.size());
                    tokens.add(batch.stream().mapToLong(w -> w.length).sum());
                    batch.clear();
                }
            }
            return List.of(new GramSums(sums, count)).iterator();
        }
    }
}
