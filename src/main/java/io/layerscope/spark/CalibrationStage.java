package io.layerscope.spark;

import ai.djl.Device;
import io.layerscope.llama.LlamaModel;
import io.layerscope.llama.TapSums;
import io.layerscope.stats.DepthSums;
import java.io.PrintStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.util.LongAccumulator;

/**
 * Stage one: the calibration windows, split into shards (Spark partitions), run through the model
 * on the executors; each shard returns its per-tap partial sums of squares, which the driver adds
 * up. The merge is exact up to float addition order: sums add, sample counts add, scaler_row is
 * divided once at the end (docs/METRICS.md, scaler_row). The depth statistics of the same forward
 * ({@link DepthSums}) are kept under each window's global sample index and merge to the bit.
 */
public final class CalibrationStage {
    /**
     * The merged sums, the devices that ran shards, the types they computed in (--dtype resolved),
     * the seconds the stage took, the most decoder
     * blocks any executor's model held (the forward never runs past them), and the longest any task
     * waited for its executor's model (queued behind the warm-up job that loads it, plus the load
     * where a task loaded it; near 0 where it was ready), and the depth statistics (null when the spec
     * leaves them out).
     */
    public record Result(TapSums sums, List<String> devices, List<String> computeTypes, double seconds, int blocksLoaded,
                         double modelLoadSeconds, DepthSums depth) implements Serializable {
        private static final long serialVersionUID = 1L;

        /**
         * The sums of {@code taps} alone, without the depth statistics: what a job that gathers none
         * takes from a forward that covered more blocks (the sums of a block do not depend on how far
         * the forward goes).
         */
        Result tapsOnly(List<String> taps) {
            return new Result(sums.only(taps), devices, computeTypes, seconds, blocksLoaded, modelLoadSeconds, null);
        }

        /**
         * The sums of {@code taps} and the depth statistics of blocks 0..{@code lastBlock}, as a forward
         * that stopped there gives them (both depend only on the blocks before); empty when this
         * result's depth statistics cannot be cut there ({@link DepthSums#upTo}).
         */
        Optional<Result> upTo(List<String> taps, int lastBlock) {
            if (depth == null) {
                return Optional.empty();
            }
            return depth.upTo(lastBlock).map(d -> new Result(sums.only(taps), devices, computeTypes, seconds,
                    Math.min(blocksLoaded, lastBlock + 1), modelLoadSeconds, d));
        }
    }

    /** A calibration window with its global sample index, which the depth statistics are kept under. */
    record Window(int sample, int[] tokens) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** One shard's partial result. */
    record ShardResult(TapSums sums, String device, String computeType, int blocksLoaded, double modelWaitSeconds,
                       DepthSums depth)
            implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    private CalibrationStage() {
    }

    /** The shards stage one makes of {@code samples} windows: never more than samples, since an empty one would only load the model. */
    static int shards(int requested, int samples) {
        return Math.max(1, Math.min(requested, samples));
    }

    public static Result run(JavaSparkContext jsc, ModelSpec spec, List<int[]> windows, int shards, PrintStream err) {
        LongAccumulator samples = jsc.sc().longAccumulator("layerscope.samples");
        LongAccumulator tokens = jsc.sc().longAccumulator("layerscope.tokens");
        StageProgress progress = new StageProgress("calibration forward", "samples", windows.size(), samples, tokens, err);
        jsc.sc().addSparkListener(progress);
        try {
            progress.follow(jsc, "layerscope stage 1: calibration forward over " + windows.size() + " samples");
            List<Window> indexed = new ArrayList<>();
            for (int s = 0; s < windows.size(); s++) {
                indexed.add(new Window(s, windows.get(s)));
            }
            Merged m = new Merged(spec.depth() ? new DepthSums() : null);
            PartitionsInOrder.forEach(jsc.parallelize(indexed, shards(shards, windows.size()))
                    .mapPartitions(new ShardTask(spec, samples, tokens)), m::arrived, m::addInOrder);
            // Waiting for the model: queued behind the warm-up job that loads it, or loading it in the task.
            double waited = progress.secondsBeforeFirstTask() + m.load;
            return new Result(m.sums, new ArrayList<>(m.devices), new ArrayList<>(m.types), progress.finish(), m.blocks,
                    waited, m.depth);
        } finally {
            jsc.sc().removeSparkListener(progress);
        }
    }

    /**
     * The shards' results merged as they arrive ({@link PartitionsInOrder}): the driver never holds
     * every shard's sums at once. The depth statistics merge to the same bits in any order; the float
     * sums wait for the shards in front of them.
     */
    private static final class Merged {
        TapSums sums = TapSums.empty();
        final DepthSums depth;
        final TreeSet<String> devices = new TreeSet<>();
        final TreeSet<String> types = new TreeSet<>();
        int blocks;
        double load;

        Merged(DepthSums depth) {
            this.depth = depth;
        }

        /** Takes what merges in any order; returns the sums, which wait for the shards before this one. */
        TapSums arrived(ShardResult p) {
            if (depth != null) {
                depth.add(p.depth());
            }
            devices.add(p.device());
            types.add(p.computeType());
            blocks = Math.max(blocks, p.blocksLoaded());
            load = Math.max(load, p.modelWaitSeconds());
            return p.sums();
        }

        void addInOrder(TapSums shard) {
            sums = sums.merge(shard);
        }
    }

    /** Runs on an executor: one shard of windows through the (cached) model. */
    static final class ShardTask implements FlatMapFunction<Iterator<Window>, ShardResult> {
        private static final long serialVersionUID = 1L;
        private final ModelSpec spec;
        private final LongAccumulator samples;
        private final LongAccumulator tokens;

        ShardTask(ModelSpec spec, LongAccumulator samples, LongAccumulator tokens) {
            this.spec = spec;
            this.samples = samples;
            this.tokens = tokens;
        }

        @Override
        public Iterator<ShardResult> call(Iterator<Window> windows) {
            return HeapExhaustion.guard(() -> "stage one (the calibration forward)", () -> forward(windows));
        }

        private Iterator<ShardResult> forward(Iterator<Window> windows) {
            SweepHooks.inTask().taskStarts("calibration");
            Device device = ExecutorResources.taskDevice();
            long waitStart = System.nanoTime();
            try (ExecutorResources.ModelLease lease = ExecutorResources.model(spec, device)) {
                LlamaModel model = lease.model();
                double modelWait = (System.nanoTime() - waitStart) / 1e9;
                List<int[]> shard = new ArrayList<>();
                List<Integer> indices = new ArrayList<>();
                windows.forEachRemaining(w -> {
                    shard.add(w.tokens());
                    indices.add(w.sample());
                });
                // one call for the whole shard: the model takes each block once per group of batches
                LlamaModel.Pass f = model.forward(shard, indices.stream().mapToInt(Integer::intValue).toArray(),
                        spec.batchSize(), spec.tapKeys(), spec.stageOneDepth(model.device()), List.of(),
                        StageProgress.windowsDone(shard, samples, tokens));
                TapSums sums = f.sums();
                DepthSums depth = f.depth();
                String type = model.computeType().name().toLowerCase(java.util.Locale.ROOT);
                String where = ExecutorResources.executorForRecords() + ": " + device + " " + type + ExecutorResources.blasNote(device)
                        + HugePageAllocation.note(device) + HugePageAllocation.heapNote();
                return List.of(new ShardResult(sums, where, type, model.lastBlock() + 1, modelWait, depth)).iterator();
            }
        }
    }
}
