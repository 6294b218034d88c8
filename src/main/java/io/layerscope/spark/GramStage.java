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
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

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

        /** Whether the next pass starts where this one does: the states this one resumes from are the ones to keep. */
        boolean keepsWhereItStarts() {
            return keep == from;
        }
    }

    /**
     * A pass's merged result: the matrices (handed over by reference from a task in the driver's JVM),
     * the tasks that ran, those that started from kept states, where each partition's states for the
     * next pass were kept (Spark's location of its executor), and why keeping failed somewhere (null
     * if it did not).
     */
    record Result(HeldValues.Handed<GramSums> handed, int tasks, int resumed, Map<Integer, String> keptAt,
                  String keepFailure) implements Serializable {
        private static final long serialVersionUID = 1L;

        GramSums sums() {
            return handed.get();
        }

        /**
         * Both results, for Spark's reduce, whose operands are tasks' results (taken once, see
         * {@link HeldValues.Handed#get}) or the running total: neither is used again, so the sums
         * are made in their own matrices (the driver holds two sets at the peak, not three).
         */
        Result merge(Result o) {
            Map<Integer, String> kept = new TreeMap<>(keptAt);
            kept.putAll(o.keptAt);
            return new Result(HeldValues.Handed.here(sums().mergeTaking(o.sums())), tasks + o.tasks, resumed + o.resumed,
                    kept, keepFailure != null ? keepFailure : o.keepFailure);
        }
    }

    /**
     * The windows cut into {@code shards} consecutive shards as {@code parallelize} cuts them, each a
     * partition; on a cluster, a partition whose states the previous pass kept ({@code keptAt}: its
     * executor's location) prefers that executor, so that its task finds them there.
     */
    static JavaRDD<List<int[]>> partitions(JavaSparkContext jsc, List<int[]> windows, int shards,
                                           Map<Integer, String> keptAt) {
        List<List<int[]>> cut = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            cut.add(new ArrayList<>(windows.subList((int) ((long) i * windows.size() / shards),
                    (int) ((long) (i + 1) * windows.size() / shards))));
        }
        if (keptAt.isEmpty() || GramPlan.local(jsc.getConf())) {
            return jsc.parallelize(cut, shards);
        }
        List<Tuple2<List<int[]>, scala.collection.immutable.Seq<String>>> placed = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            List<String> at = keptAt.containsKey(i) ? List.of(keptAt.get(i)) : List.of();
            placed.add(new Tuple2<>(cut.get(i), CollectionConverters.asScala(at).toList()));
        }
        @SuppressWarnings("unchecked")
        ClassTag<List<int[]>> tag = ClassTag$.MODULE$.apply((Class<List<int[]>>) (Class<?>) List.class);
        return JavaRDD.fromRDD(jsc.sc().makeRDD(CollectionConverters.asScala(placed).toList(), tag), tag);
    }

    /** {@code threads}: libtorch's intra-op threads for each task, at least the executor's own setting. */
    static Result run(JavaSparkContext jsc, ModelSpec spec, List<int[]> windows, int shards, List<String> taps,
                      Chain chain, Map<Integer, String> keptAt, int threads, String label, PrintStream err) {
        LongAccumulator samples = jsc.sc().longAccumulator("layerscope.gram.samples");
        LongAccumulator tokens = jsc.sc().longAccumulator("layerscope.gram.tokens");
        StageProgress progress = new StageProgress(label, "samples", windows.size(), samples, tokens, err);
        jsc.sc().addSparkListener(progress);
        String hold = "gram/" + chain.run() + "/" + label + "/";
        try {
            progress.follow(jsc, "layerscope " + label + ": Gram matrices of " + taps.size() + " taps over "
                    + windows.size() + " samples");
            Result result = partitions(jsc, windows, CalibrationStage.shards(shards, windows.size()), keptAt)
                    .mapPartitions(new PassTask(spec, taps, chain, threads, hold, samples, tokens))
                    .reduce(Result::merge);
            progress.finish();
            if (result.sums().nsamples() != windows.size()) {
                throw new IllegalStateException(label + " summed " + result.sums().nsamples() + " calibration samples of "
                        + windows.size());
            }
            return result;
        } finally {
            jsc.sc().removeSparkListener(progress);
            // results of tasks whose job failed, or of attempts Spark dropped
            HeldValues.release(hold);
        }
    }

    /** Runs on an executor: one shard's windows, {@code spec.batchSize()} at a time. */
    static final class PassTask implements FlatMapFunction<Iterator<List<int[]>>, Result> {
        private static final long serialVersionUID = 1L;
        private final ModelSpec spec;
        private final List<String> taps;
        private final Chain chain;
        private final int threads;
        private final String hold;
        private final LongAccumulator samples;
        private final LongAccumulator tokens;

        /** {@code hold}: the key prefix of the matrices a task in the driver's JVM hands over by reference. */
        PassTask(ModelSpec spec, List<String> taps, Chain chain, int threads, String hold, LongAccumulator samples,
                 LongAccumulator tokens) {
            this.spec = spec;
            this.taps = taps;
            this.chain = chain;
            this.threads = threads;
            this.hold = hold;
            this.samples = samples;
            this.tokens = tokens;
        }

        @Override
        public Iterator<Result> call(Iterator<List<int[]>> windows) {
            return HeapExhaustion.guard(() -> "a pass of --gram (the Gram matrices)", () -> pass(windows));
        }

        private Iterator<Result> pass(Iterator<List<int[]>> windows) {
            Device device = ExecutorResources.taskDevice();
            int partition = TaskContext.getPartitionId();
            try (ExecutorResources.ModelLease lease = ExecutorResources.model(spec, device);
                 IntraOpThreads widened = IntraOpThreads.atLeast(threads);
                 KeptStates.Claim claim = chain.from() > 0 ? KeptStates.claim(chain.run(), partition, chain.from()) : null;
                 // a pass that starts where the next one does hands the claimed states on as they are
                 KeptStates.Writer writer = chain.keep() < 0 || claim != null && chain.keepsWhereItStarts() ? null
                         : KeptStates.writer(chain.run(), partition, chain.keep(), localFile())) {
                SweepHooks.inTask().taskStarts("gram");
                LlamaModel model = lease.model();
                // one call for the shard: the sums are added on the device and copied to the heap once,
                // not once per batch (a pass's matrices may take most of the task's memory)
                List<int[]> shard = new ArrayList<>();
                windows.forEachRemaining(shard::addAll);
                GramSums sums = model.forwardGrams(shard, spec.batchSize(), taps,
                        claim == null ? null : new LlamaModel.Resume(chain.from(), claim.states()),
                        writer == null ? null : new LlamaModel.Keep(chain.keep(), writer),
                        StageProgress.windowsDone(shard, samples, tokens));
                String failure = null;
                Map<Integer, String> kept = Map.of();
                SparkEnv env = SparkEnv.get();
                // Spark's name for a place of cached data: this executor, on its host
                String here = "executor_" + env.blockManager().blockManagerId().host() + "_" + env.executorId();
                if (writer != null) {
                    writer.commit();
                    if (writer.failure() != null) {
                        failure = "executor " + env.executorId() + ": " + writer.failure();
                    } else {
                        kept = Map.of(partition, here);
                    }
                } else if (claim != null && chain.keepsWhereItStarts()) {
                    claim.keepAgain();
                    kept = Map.of(partition, here);
                }
                return List.of(new Result(HeldValues.Handed.of(hold, sums), 1, claim == null ? 0 : 1, kept, failure)).iterator();
            }
        }

        /** A new file in the executor's Spark local directories, which Spark removes when it stops. */
        private static Path localFile() {
            return SparkEnv.get().blockManager().diskBlockManager().createTempLocalBlock()._2().toPath();
        }
    }
}
