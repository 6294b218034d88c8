package io.layerscope.spark;

import io.layerscope.LayerscopeException;
import io.layerscope.llama.HiddenStates;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import io.layerscope.prune.BlockMasks;
import io.layerscope.prune.LayerMask;
import io.layerscope.prune.LayerPruner;
import io.layerscope.stats.CheckpointWeightRows;
import io.layerscope.stats.WeightRows;
import io.layerscope.prune.PrunedCheckpointWriter;
import io.layerscope.prune.SparsityPattern;
import io.layerscope.results.LayerResult;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.OutlierPositions;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;

/**
 * Wanda's prune_wanda as Spark jobs (docs/PRUNING.md). The calibration batches' hidden states are an
 * RDD persisted on the executors (on their local disks unless {@link #statesStorage} says otherwise),
 * never collected. Per decoder block, in order:
 * <ol>
 * <li>the dense block over the current states, each batch returning its taps' sums of x^2; the
 * driver adds them in sample order (so the result does not depend on the shard count) into the
 * block's sequential scaler_rows;</li>
 * <li>one task per Linear of the block: its Wanda mask at its block's sparsity, the agreement with
 * the mask of the dense statistics, and for analysed layers the statistics and picture;</li>
 * <li>the pruned block over the states gives the next block's states. Each executor rebuilds the
 * block's masks itself from the scaler_rows carried by the task (the same code on the same inputs
 * as step 2, so the same bits; a big layer's rows on the executor's statistics pool, since the
 * executor's tasks wait for them; those its own layer tasks made in step 2 are taken as they are,
 * {@link RoundMasks}): only a few kilobytes travel, and a lost executor's states are
 * recomputed from lineage with nothing kept on the driver.</li>
 * </ol>
 * lm_head is not pruned: its tap is the final norm of the pruned stream.
 *
 * <p>With the depth tables asked for, the same passes feed a {@link DepthSums} (docs/METRICS.md,
 * sequential mode): the pruned pass the residual stream around each pruned block, the dense pass
 * down_proj's spikes and the taps' |x| >= 6 counts as the round's masks see them. Each part leaves
 * its task as a result of the task (a batch's taps, or one element per partition beside the
 * persisted states), never through an accumulator, so a partition recomputed after an executor loss
 * is not counted twice. The positions where a tap reached |x| >= 6 in some block so far
 * ({@link OutlierPositions}) travel with each batch's states: the dense pass's output (taps and marks,
 * not the states again) is persisted, and the pruned pass pairs its marks with the stored states
 * ({@link #withMarks}).
 */
final class SequentialStage {
    /**
     * The sequential results: per analysed layer (with its drift), the sequential scaler_row of every
     * tap seen, and the depth statistics of the pruned stream (null unless asked for).
     */
    record Result(List<LayerResult> layers, Map<String, float[]> scalerRows, double[] sparsityActual, DepthSums depth) {
    }

    /** Consecutive calibration windows run together. */
    record Batch(int firstSample, List<int[]> windows) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** One batch's sums of x^2 per tap, and its dense block's down_proj spikes (null when not asked for). */
    record BatchTaps(int firstSample, Map<String, float[]> sums, DepthSums depth) implements Serializable {
        private static final long serialVersionUID = 1L;

        BatchTaps(int firstSample, Map<String, float[]> sums) {
            this(firstSample, sums, null);
        }
    }

    /** A batch's states and (with depth) its outlier positions so far, or null marks. */
    record Carried(HiddenStates states, OutlierPositions marks) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * An element of the persisted pass output: a batch's states, or (one per partition, with depth
     * asked for) the depth statistics of the partition's batches around the block just run.
     */
    record PassOutput(Carried carried, DepthSums depth) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * What the dense pass gives per batch: its taps, and with depth the batch's marks with this block's
     * added (the pruned pass pairs them with the stored states, which are not written again).
     */
    record DenseOutput(BatchTaps taps, OutlierPositions marks) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** What a round's layer task returns: the mask only when the driver writes the pruned checkpoint. */
    record RoundLayer(String layer, LayerResult result, LayerMask mask, double sparsityActual, double maskAgreement)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        RoundLayer withResult(LayerResult r) {
            return new RoundLayer(layer, r, mask, sparsityActual, maskAgreement);
        }
    }

    /** What every task of a round needs besides its data. */
    record Round(String id, int block, double sparsity, SparsityPattern pattern, Map<String, float[]> scalerRows,
                 Map<String, float[]> denseScalerRows) implements Serializable {
        private static final long serialVersionUID = 1L;

        /** What the pruned pass needs: the round without the dense rows (those serve the drift only). */
        Round forPrunedPass() {
            return new Round(id, block, sparsity, pattern, scalerRows, Map.of());
        }
    }

    /** The Spark setting for where the batches' hidden states wait between passes ({@link #statesStorage}). */
    static final String STATES_STORAGE = "spark.layerscope.sequential.statesStorage";

    private final JavaSparkContext jsc;
    private final ModelSpec spec;
    private final LayerStage.Settings settings;
    private final Checkpoint ckpt;
    private final UnaryOperator<LayerResult> arrived;
    private final List<String> computeTypes;
    private final PrintStream err;

    /**
     * {@code arrived}: what each analysed layer's result goes through as it reaches the driver (its picture
     * written out); {@code computeTypes}: stage one's, which the passes here share (for the message of a row
     * that overflowed).
     */
    SequentialStage(JavaSparkContext jsc, ModelSpec spec, LayerStage.Settings settings, Checkpoint ckpt,
                    UnaryOperator<LayerResult> arrived, List<String> computeTypes, PrintStream err) {
        this.jsc = jsc;
        this.spec = spec;
        this.settings = settings;
        this.ckpt = ckpt;
        this.arrived = arrived;
        this.computeTypes = List.copyOf(computeTypes);
        this.err = err;
    }

    /** What the rows of a round are called when one is not finite. */
    static final String PRUNED_PASS = "sequential mode's forward pass through the pruned blocks";

    /**
     * The pruned stream can overflow where the dense one did not (float16 on a GPU): said as stage
     * one's rows are, before a mask is made from them.
     */
    private Map<String, float[]> checked(Map<String, float[]> rows) {
        ActivationCheck.check(ckpt, ckpt.prunableLayers(), rows, computeTypes, PRUNED_PASS);
        return rows;
    }

    /**
     * Where the batches' hidden states wait between passes (docs/CLUSTER.md): by default on the
     * executors' local disks (and so in the page cache), not in Spark's storage memory on the heap,
     * whose share Spark fills without seeing the tasks' own arrays (a block's weights, the masks).
     * Any storage level Spark names that keeps them somewhere.
     */
    static StorageLevel statesStorage(SparkConf conf) {
        String name = conf.get(STATES_STORAGE, "DISK_ONLY").trim();
        StorageLevel level;
        try {
            level = StorageLevel.fromString(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            level = StorageLevel.NONE();
        }
        if (!level.isValid()) {
            throw new LayerscopeException(STATES_STORAGE + "=" + name + " is not a storage level that keeps the hidden"
                    + " states; use DISK_ONLY (the default), MEMORY_AND_DISK, MEMORY_AND_DISK_SER or another of Spark's"
                    + " StorageLevel names except NONE");
        }
        return level;
    }

    /**
     * @param lastRound  the last block pruned (blocks after it are neither run nor pruned)
     * @param analysed   the layers whose statistics are wanted (lm_head among them needs every block)
     * @param denseRows  stage one's dense scaler_row per tap, for the drift
     * @param writer     the pruned checkpoint's writer, or null
     * @param depth      whether to gather the depth statistics of the pruned stream (blocks 0..lastRound)
     */
    Result run(List<int[]> windows, int shards, int lastRound, List<PrunableLayer> analysed,
               Map<String, float[]> denseRows, PrunedCheckpointWriter writer, boolean depth) {
        List<Batch> batches = batches(windows, spec.batchSize());
        // read here, not when made: a dense sweep makes this stage too (one-shot pruning) and keeps no states
        StorageLevel states = statesStorage(jsc.getConf());
        Set<String> wanted = new java.util.HashSet<>();
        analysed.forEach(l -> wanted.add(l.name()));
        boolean head = analysed.stream().anyMatch(l -> l.kind() == LayerKind.LM_HEAD);
        SparsityPattern pattern = settings.analysis().pattern();
        Map<String, float[]> seqRows = new LinkedHashMap<>();
        Map<String, LayerResult> results = new LinkedHashMap<>();
        double[] actual = new double[lastRound + 1];
        DepthSums streams = depth ? new DepthSums() : null;
        JavaRDD<PassOutput> pass = jsc.parallelize(batches, CalibrationStage.shards(shards, batches.size()))
                .mapPartitions(new SequentialTasks.EmbedTask(spec)).persist(states).setName("layerscope embeddings");
        JavaRDD<PassOutput> previous = null;
        JavaRDD<DenseOutput> denseOut = null;
        // Each pass's input is the previous pass's output, so a late pass's lineage holds every round
        // before it, and Spark ships that lineage with each of its tasks. The rounds' rows travel as
        // broadcasts, held until the end (on the executors, until a checkpoint of the states after their
        // block): a recomputation after an executor loss may need any of them back to there.
        List<Broadcast<Round>> roundsShipped = new ArrayList<>();   // by block
        int released = 0;
        // a round at real size is minutes of block passes: progress moves with every batch through one
        long passes = 2L * lastRound + 1 + (head || depth ? 1 : 0);
        PassProgress counts = new PassProgress(jsc.sc().longAccumulator("layerscope.sequential.samples"),
                jsc.sc().longAccumulator("layerscope.sequential.tokens"));
        StageProgress progress = new StageProgress("sequential rounds", "sample passes", passes * windows.size(),
                counts.samples(), counts.tokens(), err);
        jsc.sc().addSparkListener(progress);
        StatesCheckpoints checkpoints = StatesCheckpoints.of(jsc, err);
        try {
            for (int b = 0; b <= lastRound; b++) {
                long t = System.nanoTime();
                jsc.setJobDescription("layerscope sequential: dense pass of block " + b + " of " + lastRound);
                denseOut = carried(pass).mapPartitions(new SequentialTasks.DenseTapsTask(spec, b, depth, counts));
                if (depth) {
                    denseOut.persist(states);   // the pruned pass reads the new marks from it, beside pass's states
                }
                Map<String, float[]> rows = checked(scalerRows(denseOut.map(DenseOutput::taps), windows.size(), streams));
                if (previous != null) {
                    previous.unpersist(false);   // the states just computed from it are persisted now
                    previous = null;
                }
                seqRows.putAll(rows);
                double sparsity = settings.blockSparsity()[b];
                Round round = new Round(UUID.randomUUID().toString(), b, sparsity, pattern, rows, subset(denseRows, rows));
                List<PrunableLayer> layers = ckpt.prunableLayers().stream().filter(l -> l.block() == round.block()).toList();
                List<RoundLayer> done = layerJob(round, layers, wanted, writer != null);
                long pruned = 0;
                Map<String, LayerMask> masks = new LinkedHashMap<>();
                for (RoundLayer r : done) {
                    PrunableLayer l = ckpt.layer(r.layer());
                    pruned += Math.round(r.sparsityActual() * l.outFeatures() * l.inFeatures());
                    if (r.result() != null) {
                        results.put(r.layer(), r.result());
                    }
                    if (r.mask() != null) {
                        masks.put(l.weightTensor(), r.mask());
                    }
                }
                actual[b] = pruned / (double) layers.stream().mapToLong(l -> (long) l.outFeatures() * l.inFeatures()).sum();
                if (writer != null) {
                    writer.writeBlock(b, masks);
                }
                masks.clear();
                if (b < lastRound || head || depth) {
                    previous = pass;
                    JavaRDD<Carried> input = depth ? withMarks(carried(previous), denseOut) : carried(previous);
                    Broadcast<Round> shipped = jsc.broadcast(round.forPrunedPass());
                    roundsShipped.add(shipped);
                    pass = prunedPass(input, spec, shipped, depth, states, counts);
                    if (b < lastRound) {
                        checkpoints.offer(pass, b);
                    }
                    if (depth) {
                        jsc.setJobDescription("layerscope sequential: pruned pass of block " + b + " of " + lastRound);
                        // materialises the persisted states too: the next dense pass reads them from the cache
                        PartitionsInOrder.forEach(pass.filter(o -> o.depth() != null).map(PassOutput::depth), streams::add);
                        denseOut.unpersist(false);
                        previous.unpersist(false);   // read by the pruned pass alone, whose output is stored now
                        previous = null;
                    }
                }
                // "block 3 of 0..3": blocks are counted from 0, as their names are (model.layers.3)
                err.printf("sequential: block %d of 0..%d pruned at %.4f (%.4f of its weights) in %.1f s%n", b, lastRound,
                        sparsity, actual[b], (System.nanoTime() - t) / 1e9);
                checkpoints.settle();   // without depth, the states of the block before are written by now
                for (; released <= checkpoints.writtenBlock(); released++) {
                    // no recomputation reaches behind a checkpoint, but the checkpointed pass still names its
                    // round in its closure, which later tasks serialise: the executors' copies go, not the driver's
                    roundsShipped.get(released).unpersist(false);
                }
            }
            if (depth) {
                jsc.setJobDescription("layerscope sequential: outlier positions over every block");
                PartitionsInOrder.forEach(carried(pass).mapPartitions(SequentialStage::outlierPositions), streams::add);
            }
            Map<String, float[]> headRows = null;
            if (head) {
                // without depth the last pruned pass runs in this job, the first to read its states
                jsc.setJobDescription("layerscope sequential: lm_head's input from the pruned model");
                headRows = checked(scalerRows(states(pass).mapPartitions(new SequentialTasks.FinalNormTask(spec)),
                        windows.size(), null));
            }
            progress.finish();
            if (head) {
                seqRows.putAll(headRows);
                PrunableLayer lmHead = analysed.stream().filter(l -> l.kind() == LayerKind.LM_HEAD).findFirst().orElseThrow();
                Round round = new Round(UUID.randomUUID().toString(), -1, settings.analysis().sparsity(), pattern, headRows,
                        subset(denseRows, headRows));
                for (RoundLayer r : layerJob(round, List.of(lmHead), wanted, false)) {
                    results.put(r.layer(), r.result());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            pass.unpersist(false);
            if (previous != null) {
                previous.unpersist(false);
            }
            if (denseOut != null) {
                denseOut.unpersist(false);
            }
            roundsShipped.forEach(r -> r.destroy(false));
            checkpoints.close();
            jsc.sc().removeSparkListener(progress);
        }
        if (depth) {
            streams.finishSequences();
        }
        List<LayerResult> ordered = analysed.stream().map(l -> results.get(l.name())).toList();
        return new Result(ordered, seqRows, actual, streams);
    }

    /** The pruned block over {@code input}, persisted: the next dense pass and the next pruned pass read it. */
    static JavaRDD<PassOutput> prunedPass(JavaRDD<Carried> input, ModelSpec spec, Broadcast<Round> round, boolean depth,
                                          StorageLevel storage, PassProgress counts) {
        return input.mapPartitions(new SequentialTasks.PrunedPassTask(spec, round, depth, counts)).persist(storage);
    }

    /** Sequences and tokens through the block passes so far, which the tasks add to batch by batch ({@link StageProgress}). */
    record PassProgress(LongAccumulator samples, LongAccumulator tokens) implements Serializable {
        private static final long serialVersionUID = 1L;

        void add(HiddenStates batch) {
            samples.add(batch.sequences());
            tokens.add((long) batch.sequences() * batch.tokens());
        }
    }

    /**
     * Each batch of {@code batches} with the marks the dense pass made for it: the dense pass maps
     * the same partitions one batch to one output, so the two line up partition by partition.
     */
    static JavaRDD<Carried> withMarks(JavaRDD<Carried> batches, JavaRDD<DenseOutput> dense) {
        return batches.zipPartitions(dense.map(DenseOutput::marks), SequentialStage::paired);
    }

    /** The two partitions' elements in pairs, made as they are asked for. */
    static Iterator<Carried> paired(Iterator<Carried> batches, Iterator<OutlierPositions> marks) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                boolean more = batches.hasNext();
                if (more != marks.hasNext()) {
                    throw new IllegalStateException("a partition's batches and its dense pass's marks differ in number");
                }
                return more;
            }

            @Override
            public Carried next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                return new Carried(batches.next().states(), marks.next());
            }
        };
    }

    /** The batches of a pass output, in their order. */
    static JavaRDD<Carried> carried(JavaRDD<PassOutput> pass) {
        return pass.filter(o -> o.carried() != null).map(PassOutput::carried);
    }

    /** The batches' states of a pass output, in their order. */
    private static JavaRDD<HiddenStates> states(JavaRDD<PassOutput> pass) {
        return carried(pass).map(Carried::states);
    }

    /** Runs on an executor: a partition's positions with |x| >= 6 in some block, and the tokens they were taken over. */
    private static Iterator<DepthSums> outlierPositions(Iterator<Carried> batches) {
        DepthSums d = new DepthSums();
        batches.forEachRemaining(c -> {
            c.marks().addTo(d);
            d.outlierTokens((long) c.states().sequences() * c.states().tokens());
        });
        return List.of(d).iterator();
    }

    /**
     * One-shot pruning (dense mode with --save-pruned): every block's masks from the dense
     * statistics, written block by block.
     */
    void oneShot(int lastBlock, Map<String, float[]> denseRows, PrunedCheckpointWriter writer) {
        try {
            for (int b = 0; b <= lastBlock; b++) {
                Map<String, float[]> rows = blockRows(denseRows, b);
                // stage one's check covered the analysed layers' rows only (--layers)
                ActivationCheck.check(ckpt, ckpt.prunableLayers(), rows, computeTypes);
                Round round = new Round(UUID.randomUUID().toString(), b, settings.blockSparsity()[b],
                        settings.analysis().pattern(), rows, rows);
                int block = b;
                List<PrunableLayer> layers = ckpt.prunableLayers().stream().filter(l -> l.block() == block).toList();
                Map<String, LayerMask> masks = new LinkedHashMap<>();
                for (RoundLayer r : layerJob(round, layers, Set.of(), true)) {
                    masks.put(ckpt.layer(r.layer()).weightTensor(), r.mask());
                }
                writer.writeBlock(b, masks);
                err.printf("one-shot pruning: block %d of 0..%d written%n", b, lastBlock);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The entries of {@code all} under the keys of {@code like}: a round's tasks carry only their
     * block's rows, not every tap of the model (which would ship with every task).
     */
    static Map<String, float[]> subset(Map<String, float[]> all, Map<String, float[]> like) {
        Map<String, float[]> out = new LinkedHashMap<>();
        like.keySet().forEach(k -> {
            if (all.containsKey(k)) {
                out.put(k, all.get(k));
            }
        });
        return out;
    }

    /** The four taps of block {@code b} in {@code all}. */
    static Map<String, float[]> blockRows(Map<String, float[]> all, int b) {
        Map<String, float[]> out = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(b + "/")) {
                out.put(k, v);
            }
        });
        return out;
    }

    /** Consecutive windows in batches of {@code size}: the same batches whatever the shard count. */
    static List<Batch> batches(List<int[]> windows, int size) {
        List<Batch> out = new ArrayList<>();
        for (int from = 0; from < windows.size(); from += size) {
            out.add(new Batch(from, new ArrayList<>(windows.subList(from, Math.min(windows.size(), from + size)))));
        }
        return out;
    }

    /**
     * The batches' scaler_rows, summed as the batches arrive ({@link PartitionsInOrder}: partition
     * order is sample order); their depth statistics go into {@code depth} unless it is null.
     */
    static Map<String, float[]> scalerRows(JavaRDD<BatchTaps> batches, int nsamples, DepthSums depth) {
        TapsInOrder taps = new TapsInOrder();
        PartitionsInOrder.forEach(batches, b -> {
            if (depth != null) {
                depth.add(b.depth());   // the same bits in any order
            }
            return new BatchTaps(b.firstSample(), b.sums());
        }, taps::add);
        return taps.scalerRows(nsamples);
    }

    /**
     * The batches' sums of x^2 added as they come, in sample order (float32, as stage one: so the
     * sums do not depend on the shard count), divided by the sequence count once at the end.
     */
    static final class TapsInOrder {
        private final Map<String, float[]> sums = new LinkedHashMap<>();
        private int lastSample = -1;

        void add(BatchTaps p) {
            if (p.firstSample() <= lastSample) {
                throw new IllegalStateException("batch of sample " + p.firstSample() + " came after sample " + lastSample);
            }
            lastSample = p.firstSample();
            p.sums().forEach((k, v) -> {
                float[] s = sums.computeIfAbsent(k, x -> new float[v.length]);
                for (int j = 0; j < v.length; j++) {
                    s[j] += v[j];
                }
            });
        }

        Map<String, float[]> scalerRows(int nsamples) {
            float n = nsamples;
            sums.values().forEach(s -> {
                for (int j = 0; j < s.length; j++) {
                    s[j] /= n;
                }
            });
            return sums;
        }
    }

    private List<RoundLayer> layerJob(Round round, List<PrunableLayer> layers, Set<String> wanted, boolean keepMasks) {
        jsc.setJobDescription("layerscope sequential: masks and statistics of block " + round.block());
        List<RoundLayer> done = new ArrayList<>();
        // a layer per core, as dense stage two's tasks, not the forward's several cores each (and a share of
        // the GPU); the model stays on the GPU between a round's passes, and GpuStatisticsPlaces keeps the
        // statistics beside it to a few layers at a time, however many cores the executor has
        JavaRDD<PrunableLayer> tasks = StageTwoSlots.withRequest(jsc.parallelize(LayerStage.largestFirst(layers), layers.size()),
                StageTwoSlots.of(jsc.getConf(), settings.analysis().statsDevice(), false));
        PartitionsInOrder.forEach(tasks.mapPartitions(new SequentialTasks.RoundLayerTask(settings, round, wanted, keepMasks)),
                r -> r.result() == null ? r : r.withResult(arrived.apply(r.result())), done::add);
        return done;
    }

    /**
     * The masks of a block's seven Linears from a round's sequential scaler_rows, on every executor the
     * same bits: those this JVM's layer tasks made ({@link RoundMasks}), the rest made here.
     */
    static BlockMasks blockMasks(Checkpoint ckpt, Round round) {
        Map<LayerKind, LayerMask> masks = new EnumMap<>(LayerKind.class);
        for (PrunableLayer l : ckpt.prunableLayers()) {
            if (l.block() == round.block()) {
                LayerMask made = RoundMasks.get(round.id(), l.kind());
                // one pass over the rows: read a chunk at a time, no layer-sized array (235 MB at 8B)
                masks.put(l.kind(), made != null ? made : mask(l, new CheckpointWeightRows(ckpt, l.weightTensor(),
                        l.outFeatures(), l.inFeatures()), round, round.scalerRows()));
            }
        }
        return new BlockMasks(round.block(), masks);
    }

    /**
     * The layer's Wanda mask for the round, over a weight handed out a chunk of rows at a time; a big
     * layer's rows on the executor's statistics pool, so that the pruned pass's tasks, which wait for
     * the block's masks, are not kept waiting by one core.
     */
    static LayerMask mask(PrunableLayer l, WeightRows w, Round round, Map<String, float[]> rows) {
        return LayerPruner.wanda(l.name(), w, io.layerscope.stats.ActivationNorms.of(rows.get(l.tapKey())), round.sparsity(),
                round.pattern(),
                StatisticsThreads.worthAPool(l.outFeatures(), l.inFeatures()) ? StatisticsThreads.pool() : null);
    }
}
