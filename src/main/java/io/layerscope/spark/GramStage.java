package io.layerscope.spark;

import ai.djl.Device;
import io.layerscope.llama.IntraOpThreads;
import io.layerscope.llama.LlamaModel;
import io.layerscope.stats.GramSums;
import java.io.PrintStream;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.util.LongAccumulator;

/**
 * One pass of --gram over the calibration windows: the executors run the (cached) model up to the
 * last block the pass's taps need and sum each tap's Gram matrix over their shard; the driver adds
 * the shards' matrices as they arrive, so it holds the merged group and at most a few partial ones.
 * Each task keeps its shard's residual stream at the next pass's first block on its executor's
 * disk ({@link KeptStates}), and starts from what the previous pass kept there: over all passes
 * each block runs about once, not once per pass up to it.
 */
final class GramStage {
    private GramStage() {
    }

    /**
     * A pass's place in the chain: it starts at the input of block {@code from} (0: the embedding)
     * from what run {@code run}'s previous pass kept, and keeps the input of block {@code keep} (-1:
     * the last pass keeps nothing).
     */
    record Chain(String run, int from, int keep) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * A pass's merged result: the matrices, the tasks that ran, those that started from kept
     * states and those that kept states for the next pass, and why keeping failed (null if it did not).
     */
    record Result(GramSums sums, int tasks, int resumed, int kept, String keepFailure) implements Serializable {
        private static final long serialVersionUID = 1L;

        Result merge(Result o) {
            return new Result(sums.merge(o.sums), tasks + o.tasks, resumed + o.resumed, kept + o.kept,
                    keepFailure != null ? keepFailure : o.keepFailure);
        }
    }

    /** {@code threads}: libtorch's intra-op threads for each task, at least the executor's own setting. */
    static Result run(JavaSparkContext jsc, ModelSpec spec, List<int[]> windows, int shards, List<String> taps,
                      Chain chain, int threads, String label, PrintStream err) {
        LongAccumulator samples = jsc.sc().longAccumulator("layerscope.gram.samples");
        LongAccumulator tokens = jsc.sc().longAccumulator("layerscope.gram.tokens");
        StageProgress progress = new StageProgress(label, "samples", windows.size(), samples, tokens, err);
        jsc.sc().addSparkListener(progress);
        try {
            progress.follow(jsc, "layerscope " + label + ": Gram matrices of " + taps.size() + " taps over "
                    + windows.size() + " samples");
            Result result = jsc.parallelize(windows, CalibrationStage.shards(shards, windows.size()))
                    .mapPartitions(new PassTask(spec, taps, chain, threads, samples, tokens))
                    .reduce(Result::merge);
            progress.finish();
            if (result.sums().nsamples() != windows.size()) {
                throw new IllegalStateException(label + " summed " + result.sums().nsamples() + " calibration samples of "
                        + windows.size());
            }
            return result;
        } finally {
            jsc.sc().removeSparkListener(progress);
        }
    }

    /** Runs on an executor: one shard's windows, {@code spec.batchSize()} at a time. */
    static final class PassTask implements FlatMapFunction<Iterator<int[]>, Result> {
        private static final long serialVersionUID = 1L;
        private final ModelSpec spec;
        private final List<String> taps;
        private final Chain chain;
        private final int threads;
        private final LongAccumulator samples;
        private final LongAccumulator tokens;

        PassTask(ModelSpec spec, List<String> taps, Chain chain, int threads, LongAccumulator samples,
                 LongAccumulator tokens) {
            this.spec = spec;
            this.taps = taps;
            this.chain = chain;
            this.threads = threads;
            this.samples = samples;
            this.tokens = tokens;
        }

        @Override
        public Iterator<Result> call(Iterator<int[]> windows) {
            return HeapExhaustion.guard(() -> "a pass of --gram (the Gram matrices)", () -> pass(windows));
        }

        private Iterator<Result> pass(Iterator<int[]> windows) {
            Device device = ExecutorResources.taskDevice();
            int partition = TaskContext.getPartitionId();
            try (ExecutorResources.ModelLease lease = ExecutorResources.model(spec, device);
                 IntraOpThreads widened = IntraOpThreads.atLeast(threads);
                 KeptStates.Claim claim = chain.from() > 0 ? KeptStates.claim(chain.run(), partition, chain.from()) : null;
                 KeptStates.Writer writer = chain.keep() < 0 ? null
                         : KeptStates.writer(chain.run(), partition, chain.keep(), localFile())) {
                SweepHooks.inTask().taskStarts("gram");
                LlamaModel model = lease.model();
                // one call for the shard: the sums are added on the device and copied to the heap once,
                // not once per batch (a pass's matrices may take most of the task's memory)
                List<int[]> shard = new ArrayList<>();
                windows.forEachRemaining(shard::add);
                GramSums sums = model.forwardGrams(shard, spec.batchSize(), taps,
                        claim == null ? null : new LlamaModel.Resume(chain.from(), claim.states()),
                        writer == null ? null : new LlamaModel.Keep(chain.keep(), writer),
                        StageProgress.windowsDone(shard, samples, tokens));
                String failure = null;
                if (writer != null) {
                    writer.commit();
                    failure = writer.failure() == null ? null
                            : "executor " + SparkEnv.get().executorId() + ": " + writer.failure();
                }
                return List.of(new Result(sums, 1, claim == null ? 0 : 1,
                        writer != null && failure == null ? 1 : 0, failure)).iterator();
            }
        }

        /** A new file in the executor's Spark local directories, which Spark removes when it stops. */
        private static Path localFile() {
            return SparkEnv.get().blockManager().diskBlockManager().createTempLocalBlock()._2().toPath();
        }
    }
}
