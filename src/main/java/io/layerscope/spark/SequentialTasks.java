package io.layerscope.spark;

import io.layerscope.llama.HiddenStates;
import io.layerscope.llama.LlamaModel;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.Tap;
import io.layerscope.prune.LayerMask;
import io.layerscope.results.Drift;
import io.layerscope.results.LayerResult;
import io.layerscope.spark.SequentialStage.Batch;
import io.layerscope.spark.SequentialStage.BatchTaps;
import io.layerscope.spark.SequentialStage.Carried;
import io.layerscope.spark.SequentialStage.DenseOutput;
import io.layerscope.spark.SequentialStage.PassOutput;
import io.layerscope.spark.SequentialStage.Round;
import io.layerscope.spark.SequentialStage.RoundLayer;
import io.layerscope.stats.WeightRows;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.OutlierPositions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.TaskCompletionListener;

/** The executor side of {@link SequentialStage}: one Spark function per kind of pass. */
final class SequentialTasks {
    private SequentialTasks() {
    }

    /**
     * A pass over a partition with the executor's model, leased for the pass's length
     * ({@link ExecutorResources.ModelLease}). Its outputs are made one input at a time as Spark
     * consumes them ({@link Pass}): a partition's hidden states (nsamples / shards x seqlen x hidden x
     * 4 bytes) never sit on the heap together, and Spark streams them to the states' storage as they
     * come.
     */
    abstract static class ModelTask<I, O> implements FlatMapFunction<Iterator<I>, O> {
        private static final long serialVersionUID = 1L;
        private static final String DOING = "a block pass of --mode sequential";
        final ModelSpec spec;

        ModelTask(ModelSpec spec) {
            this.spec = spec;
        }

        @Override
        public final Iterator<O> call(Iterator<I> in) {
            return HeapExhaustion.guard(() -> DOING, () -> {
                SweepHooks.inTask().taskStarts("sequential");
                ExecutorResources.ModelLease lease = ExecutorResources.model(spec, ExecutorResources.taskDevice());
                Pass<I, O> pass;
                try {
                    pass = pass(lease.model(), in);
                } catch (RuntimeException | Error e) {
                    lease.close();
                    throw e;
                }
                Runnable release = () -> {
                    try {
                        pass.close();
                    } finally {
                        lease.close();
                    }
                };
                TaskContext task = TaskContext.get();
                if (task != null) {
                    // a task that fails or is killed before its outputs are all consumed
                    task.addTaskCompletionListener((TaskCompletionListener) t -> release.run());
                }
                return new Iterator<O>() {
                    @Override
                    public boolean hasNext() {
                        return HeapExhaustion.guard(() -> DOING, () -> {
                            boolean more = pass.hasNext();
                            if (!more) {
                                release.run();
                            }
                            return more;
                        });
                    }

                    @Override
                    public O next() {
                        return HeapExhaustion.guard(() -> DOING, pass::next);
                    }
                };
            });
        }

        /** The pass over {@code in}, made lazily. */
        abstract Pass<I, O> pass(LlamaModel model, Iterator<I> in);
    }

    /**
     * Outputs made from one input element at a time, when asked for; subclasses say what an element
     * gives, what follows the last one, and what to let go of at the end (closing twice does nothing).
     */
    abstract static class Pass<I, O> implements Iterator<O>, AutoCloseable {
        private final Iterator<I> in;
        private final ArrayDeque<O> ready = new ArrayDeque<>();
        private boolean ended;

        Pass(Iterator<I> in) {
            this.in = in;
        }

        /** The outputs of one input element. */
        abstract void add(I element, List<O> out);

        /** Outputs after the last element. */
        void finish(List<O> out) {
        }

        @Override
        public void close() {
        }

        @Override
        public final boolean hasNext() {
            List<O> made = new ArrayList<>(2);
            while (ready.isEmpty() && !ended) {
                // hasNext computes the input first where it is not stored yet (the previous pass):
                // subclasses lease a block only after, so two passes never hold a block's weights at once
                if (in.hasNext()) {
                    add(in.next(), made);
                } else {
                    ended = true;
                    finish(made);
                }
                ready.addAll(made);
                made.clear();
            }
            return !ready.isEmpty();
        }

        @Override
        public final O next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return ready.poll();
        }
    }

    /** A batch of windows to block 0's input. */
    static final class EmbedTask extends ModelTask<Batch, PassOutput> {
        private static final long serialVersionUID = 1L;

        EmbedTask(ModelSpec spec) {
            super(spec);
        }

        @Override
        Pass<Batch, PassOutput> pass(LlamaModel model, Iterator<Batch> batches) {
            return new Pass<>(batches) {
                @Override
                void add(Batch b, List<PassOutput> out) {
                    out.add(new PassOutput(new Carried(model.embed(b.windows(), b.firstSample()), null), null));
                }
            };
        }
    }

    /** The dense block's tap sums of each batch, and with depth its down_proj spikes. */
    static final class DenseTapsTask extends ModelTask<Carried, DenseOutput> {
        private static final long serialVersionUID = 1L;
        private final int block;
        private final boolean depth;
        private final SequentialStage.PassProgress counts;

        DenseTapsTask(ModelSpec spec, int block, boolean depth, SequentialStage.PassProgress counts) {
            super(spec);
            this.block = block;
            this.depth = depth;
            this.counts = counts;
        }

        @Override
        Pass<Carried, DenseOutput> pass(LlamaModel model, Iterator<Carried> batches) {
            return new Pass<>(batches) {
                /** One lease for the partition's batches: a streamed block is widened once, not per batch. */
                private LlamaModel.DenseBlockRun run;

                @Override
                void add(Carried c, List<DenseOutput> out) {
                    if (run == null) {
                        run = model.denseBlock(block);
                    }
                    HiddenStates s = c.states();
                    if (depth) {
                        // a copy: the stored element of the previous round stays as it was
                        OutlierPositions marks = c.marks() == null ? new OutlierPositions() : c.marks().copy();
                        DepthSums d = new DepthSums();
                        BatchTaps taps = new BatchTaps(s.firstSample(),
                                run.taps(s, d, marks, spec.depthOn(model.device())), d);
                        out.add(new DenseOutput(taps, marks));
                    } else {
                        out.add(new DenseOutput(new BatchTaps(s.firstSample(), run.taps(s, null, null)), null));
                    }
                    counts.add(s);
                }

                @Override
                public void close() {
                    if (run != null) {
                        run.close();
                        run = null;
                    }
                }
            };
        }
    }

    /**
     * The pruned block over each batch, masks rebuilt once per executor and round; with depth, one
     * more element: the residual stream around the pruned block ({@link DepthSums#blockStreams}) of
     * the partition's batches.
     */
    static final class PrunedPassTask extends ModelTask<Carried, PassOutput> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<Round> shipped;
        private final boolean depth;
        private final SequentialStage.PassProgress counts;

        /** The round as a broadcast: this task stays in the lineage of every later pass (SequentialStage). */
        PrunedPassTask(ModelSpec spec, Broadcast<Round> round, boolean depth, SequentialStage.PassProgress counts) {
            super(spec);
            this.shipped = round;
            this.depth = depth;
            this.counts = counts;
        }

        @Override
        Pass<Carried, PassOutput> pass(LlamaModel model, Iterator<Carried> batches) {
            Round round = shipped.value();
            Checkpoint ckpt = ExecutorResources.checkpoint(spec.modelDir());
            DepthSums streams = depth ? new DepthSums() : null;
            return new Pass<>(batches) {
                @Override
                void add(Carried c, List<PassOutput> out) {
                    HiddenStates s = c.states();
                    HiddenStates next = model.prunedBlock(s, round.block(), round.id(),
                            () -> SequentialStage.blockMasks(ckpt, round), streams, spec.depthOn(model.device()));
                    out.add(new PassOutput(new Carried(next, c.marks()), null));
                    counts.add(s);
                }

                @Override
                void finish(List<PassOutput> out) {
                    if (depth) {
                        out.add(new PassOutput(null, streams));
                    }
                }
            };
        }
    }

    /** lm_head's tap (the final norm) over the last block's pruned output. */
    static final class FinalNormTask extends ModelTask<HiddenStates, BatchTaps> {
        private static final long serialVersionUID = 1L;

        FinalNormTask(ModelSpec spec) {
            super(spec);
        }

        @Override
        Pass<HiddenStates, BatchTaps> pass(LlamaModel model, Iterator<HiddenStates> states) {
            String key = Tap.FINAL_NORM.key(-1);
            return new Pass<>(states) {
                @Override
                void add(HiddenStates s, List<BatchTaps> out) {
                    out.add(new BatchTaps(s.firstSample(), Map.of(key, model.finalNormTap(s))));
                }
            };
        }
    }

    /** One layer's mask, its agreement with the dense mask, and (if analysed) its statistics. */
    static final class RoundLayerTask implements FlatMapFunction<Iterator<PrunableLayer>, RoundLayer> {
        private static final long serialVersionUID = 1L;
        private final LayerStage.Settings settings;
        private final Round round;
        private final Set<String> wanted;
        private final boolean keepMasks;

        RoundLayerTask(LayerStage.Settings settings, Round round, Set<String> wanted, boolean keepMasks) {
            this.settings = settings;
            this.round = round;
            this.wanted = Set.copyOf(wanted);
            this.keepMasks = keepMasks;
        }

        @Override
        public Iterator<RoundLayer> call(Iterator<PrunableLayer> layers) {
            String[] current = {null};
            return HeapExhaustion.guard(() -> "the pruning round of " + (round.block() < 0 ? "lm_head" : "block " + round.block())
                    + (current[0] == null ? "" : ", layer " + current[0]), () -> {
                SweepHooks.inTask().taskStarts("layer");
                ExecutorResources.configureThreads();
                Checkpoint ckpt = ExecutorResources.checkpoint(settings.modelDir());
                List<RoundLayer> out = new ArrayList<>();
                layers.forEachRemaining(l -> {
                    current[0] = l.name();
                    out.add(analyse(ckpt, l));
                });
                return out.iterator();
            });
        }

        private RoundLayer analyse(Checkpoint ckpt, PrunableLayer l) {
            long start = System.nanoTime();
            WeightRows w = read(ckpt, l);
            float[] seq = round.scalerRows().get(l.tapKey());
            float[] dense = round.denseScalerRows().get(l.tapKey());
            LayerMask mask = SequentialStage.mask(l, w, round, round.scalerRows());
            boolean head = l.kind() == LayerKind.LM_HEAD;
            if (!head) {
                RoundMasks.put(round.id(), l.kind(), mask);   // for this JVM's pruned pass of the round
            }
            double agreement = dense == null ? Double.NaN : mask.agreement(SequentialStage.mask(l, w, round, round.denseScalerRows()));
            LayerResult result = null;
            if (wanted.contains(l.name())) {
                double[] drift = dense == null ? new double[] {Double.NaN, Double.NaN} : Drift.actNormDrift(seq, dense);
                result = LayerStage.analyse(settings, l, w, seq, round.sparsity(), start)
                        .withDrift(new Drift(dense, drift[0], drift[1], agreement, head ? null : round.sparsity(),
                                head ? null : mask.sparsity()));
            }
            return new RoundLayer(l.name(), result, keepMasks && !head ? mask : null, head ? 0 : mask.sparsity(), agreement);
        }

        /**
         * The layer's weight as stage two reads it: a layer above its limit for whole reads (lm_head)
         * a chunk at a time as each of its passes (two masks, the statistics) reaches it, a smaller
         * one whole into the task thread's reused array, not a fresh layer-sized one per layer and
         * round. The statistics on the device take it whole, in an array of its size.
         */
        private WeightRows read(Checkpoint ckpt, PrunableLayer l) {
            if (LayerStage.statsOnDevice(settings, null)) {
                return WeightRows.of(LayerStage.readWeight(ckpt, l), l.outFeatures(), l.inFeatures());
            }
            return LayerStage.weightRows(ckpt, l);
        }
    }
}
