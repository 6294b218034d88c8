package io.layerscope.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.LayerscopeException;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.LlamaConfig;
import io.layerscope.model.Tap;
import io.layerscope.prune.BlockMasks;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.GramSums;
import io.layerscope.stats.OutlierPositions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * A LLaMA checkpoint loaded onto one DJL PyTorch device, up to a given decoder block, whose forward
 * pass reports the sum of x^2 per input feature of every prunable Linear layer's input (the taps).
 * Logits are never computed; lm_head's tap is the final norm output, available when every block is
 * loaded.
 *
 * <pre>{@code
 * try (LlamaModel model = LlamaModel.load(Checkpoint.open(dir), Device.cpu(), ComputeDtype.AUTO, 15)) {
 *     TapSums sums = model.forward(windows);          // windows: List<int[]> of token ids
 *     float[] scalerRow = sums.scalerRow("0/ATTN_IN"); // Wanda's scaler_row of q/k/v_proj in block 0
 * }
 * }</pre>
 *
 * <p>Native memory: weights live in the model's NDManager until {@link #close()} (with
 * {@link Residency#STREAMED}, the norms and one reused set of block weights per concurrent pass);
 * every forward call has its own sub-manager, every batch and every block inside it a further one,
 * so nothing a forward creates outlives it except the cached rotary tables and causal mask of each
 * sequence length seen. libtorch's intra-op threads come from the system property
 * {@code ai.djl.pytorch.num_threads} (and {@code ai.djl.pytorch.num_interop_threads}), read when the
 * engine starts: set them to the task's cores under Spark. libtorch's OpenMP (libgomp) spin-waits
 * by default; where runnable threads outnumber cores, {@code OMP_WAIT_POLICY=PASSIVE} in the
 * environment keeps each parallel region from waiting on a descheduled thread, many times faster on
 * a loaded machine.
 *
 * <p>Thread-safe: concurrent forward calls on one model share the weights and the tables.
 */
public final class LlamaModel implements AutoCloseable {

    private final NDManager manager;
    private final LlamaConfig config;
    private final DataType type;
    private final int lastBlock;
    private final TokenEmbedding embed;
    private final BlockSource blocks;
    private final NDArray finalNorm;
    private final PositionTables positions;
    private final AtomicLong blocksRun = new AtomicLong();
    private final AtomicLong blockLeases = new AtomicLong();
    private final AtomicLong depthNanos = new AtomicLong();
    private final PrunedBlocks prunedBlocks;

    private LlamaModel(NDManager manager, LlamaConfig config, DataType type, int lastBlock, TokenEmbedding embed,
                       BlockSource blocks, NDArray finalNorm) {
        this.manager = manager;
        this.config = config;
        this.type = type;
        this.lastBlock = lastBlock;
        this.embed = embed;
        this.blocks = blocks;
        this.finalNorm = finalNorm;
        this.positions = new PositionTables(manager, config, type);
        this.prunedBlocks = new PrunedBlocks(manager, config);
    }

    /**
     * How a model holds its decoder blocks' Linear weights. {@code RESIDENT}: read once at load and
     * held. {@code STREAMED}: widened from the checkpoint's memory map into reused arrays each time a
     * pass reaches the block ({@link BlockSource}), where the weights are widened on the host (float32
     * on the CPU); elsewhere (a GPU, float16) they are resident whatever is asked. Both compute the
     * same floats. Streamed loads at once and holds a block's float32 at a time; each pass widens the
     * block again, which costs sequential mode's many short passes over one block a little time (the
     * executors stream anyway: memory decides whether a model fits at all). Resident reads every
     * block once: for callers that run many passes and have the memory (tests, benchmarks).
     */
    public enum Residency {
        RESIDENT, STREAMED
    }

    /** {@link #load(Checkpoint, Device, ComputeDtype, int, Residency)} with every block resident. */
    public static LlamaModel load(Checkpoint ckpt, Device device, ComputeDtype dtype, int lastBlock) {
        return load(ckpt, device, dtype, lastBlock, Residency.RESIDENT);
    }

    /**
     * Loads the embedding and blocks {@code 0..lastBlock} (and the final norm when {@code lastBlock}
     * is the last block) onto {@code device} in the {@code dtype} it resolves to. Each weight is read
     * through its memory map straight into its final array, as {@link WeightReader} describes, on as
     * many threads as libtorch's intra-op pool has: once at load, or per pass ({@code residency}).
     */
    public static LlamaModel load(Checkpoint ckpt, Device device, ComputeDtype dtype, int lastBlock, Residency residency) {
        LlamaConfig c = ckpt.config();
        if (lastBlock < 0 || lastBlock >= c.numHiddenLayers()) {
            throw new LayerscopeException("last block " + lastBlock + " is outside the model in " + ckpt.dir()
                    + ", which has blocks 0.." + (c.numHiddenLayers() - 1));
        }
        DataType type = dtype.resolve(device);
        NDManager manager = NativeLibrary.engine().newBaseManager(device);
        WeightReader weights = new WeightReader(manager, ckpt, type, WeightReader.optionsFor(device, type));
        boolean streamed = residency == Residency.STREAMED && weights.widensOnHost();
        BlockSource blocks = null;
        try {
            TokenEmbedding embed = TokenEmbedding.load(weights, ckpt, "model.embed_tokens.weight");
            // a streamed source keeps the reader (and closes it); a resident one is done with it here
            blocks = streamed ? BlockSource.streamed(weights, manager, lastBlock, c) : BlockSource.resident(weights, lastBlock, c);
            boolean all = lastBlock == c.numHiddenLayers() - 1;
            NDArray norm = all ? weights.weight("model.norm.weight") : null;
            return new LlamaModel(manager, c, type, lastBlock, embed, blocks, norm);
        } catch (RuntimeException | Error e) {
            if (blocks != null) {
                blocks.close();
            } else if (streamed) {
                weights.close();
            }
            manager.close();
            throw e;
        } finally {
            if (!streamed) {
                weights.close();
            }
        }
    }

    /** Loads every block (and the final norm). */
    public static LlamaModel load(Checkpoint ckpt, Device device, ComputeDtype dtype) {
        return load(ckpt, device, dtype, ckpt.config().numHiddenLayers() - 1);
    }

    /** Sums every available tap over {@code windows}, {@link #defaultBatchSize()} sequences per forward. */
    public TapSums forward(List<int[]> windows) {
        return forward(windows, defaultBatchSize());
    }

    public TapSums forward(List<int[]> windows, int batchSize) {
        return forward(windows, batchSize, tapKeys());
    }

    /**
     * Sums the taps named in {@code tapKeys} (a subset of {@link #tapKeys()}) over {@code windows},
     * {@code batchSize} sequences of equal length per forward. Blocks after the last one a requested
     * tap needs are not run. The sums stay on the device until the end, then are copied once.
     */
    public TapSums forward(List<int[]> windows, int batchSize, Collection<String> tapKeys) {
        return forward(windows, null, batchSize, tapKeys, false, List.of()).sums();
    }

    /** Whether a forward feeds the depth statistics, and where: host scans or device reductions. */
    public enum Depth {
        NONE, HOST, DEVICE
    }

    /**
     * What one pass over calibration windows summed: the taps' sums of squares, the depth statistics
     * (null unless asked for) and the taps' Gram matrices (none unless asked for).
     */
    public record Pass(TapSums sums, DepthSums depth, GramSums grams) {
    }

    /**
     * As {@link #forward(List, int, Collection)}, and also the depth and outlier statistics
     * ({@link DepthSums}) of every loaded block; {@code samples[s]} is window s's global calibration
     * sample index, under which its values are kept so shards merge independently of their split.
     */
    public Pass forwardWithDepth(List<int[]> windows, int[] samples, int batchSize, Collection<String> tapKeys) {
        return forward(windows, samples, batchSize, tapKeys, true, List.of());
    }

    /**
     * The Gram matrix G = sum x x^T over every token of each tap in {@code gramKeys} (a subset of
     * {@link #tapKeys()}), and nothing else; blocks after the last one those taps need are not run.
     */
    public GramSums forwardGrams(List<int[]> windows, int batchSize, Collection<String> gramKeys) {
        return forward(windows, null, batchSize, List.of(), false, gramKeys).grams();
    }

    /**
     * Where a pass over the windows starts: the input of block {@code block}, one {@link HiddenStates}
     * per batch in window order, as an earlier pass over the same windows and batch size kept them
     * ({@link Keep}). The pass's taps must all be in that block or after it.
     */
    public record Resume(int block, Iterator<HiddenStates> states) {
    }

    /**
     * What a pass hands on: the input of block {@code block} (the number of blocks: the last block's
     * output), each batch's to {@code sink} in window order as the batch reaches it; firstSample
     * counts from the call's first window.
     */
    public record Keep(int block, Consumer<HiddenStates> sink) {
    }

    /**
     * As {@link #forwardGrams(List, int, Collection)}, starting from kept states unless {@code from} is
     * null, and keeping the input of a later block unless {@code keep} is null (the pass then runs at
     * least up to it). Successive passes of --gram run each block once instead of once per pass
     * before it; the sums are those of a pass from the embedding, bit for bit, since every batch meets
     * the same operations on the same values.
     */
    public GramSums forwardGrams(List<int[]> windows, int batchSize, Collection<String> gramKeys, Resume from, Keep keep,
                                 IntConsumer windowsDone) {
        return pass(windows, null, batchSize, List.of(), Depth.NONE, gramKeys, windowsDone, from, keep).grams();
    }

    /**
     * One pass over {@code windows}, {@code batchSize} sequences of equal length per forward: the sums
     * of {@code tapKeys}, with {@code depth} the depth statistics ({@code samples[s]} is window s's
     * global calibration sample index, under which its values are kept so shards merge independently
     * of their split), and the Gram matrices of {@code gramKeys}.
     */
    public Pass forward(List<int[]> windows, int[] samples, int batchSize, Collection<String> tapKeys, boolean depth,
                        Collection<String> gramKeys) {
        return forward(windows, samples, batchSize, tapKeys, depth, gramKeys, null);
    }

    /**
     * As {@link #forward(List, int[], int, Collection, boolean, Collection)}, telling
     * {@code windowsDone} (unless null), after each block a group of batches goes through, how many of
     * the windows, from the first, are through: those of the groups before, and the group's windows in
     * proportion to the blocks it has been through (for progress on long passes; the count is exact at
     * a group's end).
     *
     * <p>Batches go through the blocks in groups of at most {@link #GROUP_BYTES} of hidden state: every
     * batch of a group through block i, then through block i + 1, so a block's weights are fetched
     * once per group ({@link Residency#STREAMED} widens them then). Each tap's sums still add the
     * batches in window order, and the depth statistics do not depend on the order batches add to
     * them ({@link DepthSums}), so the results are those of one batch at a time.
     */
    public Pass forward(List<int[]> windows, int[] samples, int batchSize, Collection<String> tapKeys, boolean depth,
                        Collection<String> gramKeys, IntConsumer windowsDone) {
        return forward(windows, samples, batchSize, tapKeys, depth ? defaultDepth() : Depth.NONE, gramKeys, windowsDone);
    }

    /** As above, the depth statistics fed as {@code where} says (on a CPU executor DEVICE runs libtorch on the CPU). */
    public Pass forward(List<int[]> windows, int[] samples, int batchSize, Collection<String> tapKeys, Depth where,
                        Collection<String> gramKeys, IntConsumer windowsDone) {
        return pass(windows, samples, batchSize, tapKeys, where, gramKeys, windowsDone, null, null);
    }

    private Pass pass(List<int[]> windows, int[] samples, int batchSize, Collection<String> tapKeys, Depth where,
                      Collection<String> gramKeys, IntConsumer windowsDone, Resume resume, Keep keep) {
        boolean depth = where != Depth.NONE;
        if (depth && samples.length != windows.size()) {
            throw new IllegalArgumentException(samples.length + " sample indices for " + windows.size() + " windows");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size " + batchSize + " must be at least 1");   // JobChecks tells the user
        }
        Set<String> wanted = checkTapKeys(tapKeys);
        Set<String> grams = checkTapKeys(gramKeys);
        Set<String> needed = new LinkedHashSet<>(wanted);
        needed.addAll(grams);
        DepthSums depthSums = depth ? new DepthSums() : null;
        // depth statistics cover every loaded block (a job loads only the blocks its layers need)
        int runTo = depth ? lastBlock : lastBlockNeeded(needed);
        int fromBlock = resume == null ? 0 : resume.block();
        if (resume != null || keep != null) {
            checkPassStates(needed, depth, fromBlock, keep);
            if (keep != null) {
                runTo = Math.max(runTo, keep.block() - 1);
            }
        }
        long tokens = 0;
        for (int s = 0; s < windows.size(); s++) {
            tokens += checkWindow(windows.get(s), s);
        }
        try (NDManager call = manager.newSubManager()) {
            TapAccumulator acc = new TapAccumulator(call, wanted);
            GramAccumulator gram = new GramAccumulator(call, grams);
            TapSink sums = grams.isEmpty() ? acc : new TapSinks(acc, gram);
            // the depth accumulators' scratch buffers, shared by the call's batches
            Map<Integer, int[]> scratch = new HashMap<>();
            float[][] streams = new float[2][];
            ExactFloatBits deviceBits = where == Depth.DEVICE ? new ExactFloatBits(call) : null;
            List<Member> group = new ArrayList<>();
            long inGroup = 0;
            int from = 0;
            try {
                while (from < windows.size()) {
                    int to = from + 1;
                    int length = windows.get(from).length;
                    while (to < windows.size() && to - from < batchSize && windows.get(to).length == length) {
                        to++;
                    }
                    long bytes = (long) (to - from) * length * config.hiddenSize() * Float.BYTES;
                    if (!group.isEmpty() && inGroup + bytes > groupBytes) {
                        finishGroup(group, fromBlock, runTo, keep, windowsDone);
                        inGroup = 0;
                    }
                    NDManager batch = call.newSubManager();
                    BatchDepth d = null;
                    TapSink sink = sums;
                    if (depthSums != null) {
                        // the call's one DepthSums: its parts do not depend on the order batches add
                        // them, and a DepthSums per batch of a group (histograms and counts per block,
                        // megabytes) would grow the heap with the group's batch count
                        d = deviceBits != null ? new DeviceDepthAccumulator(depthSums, batch, deviceBits)
                                : new DepthAccumulator(depthSums, scratch, streams);
                        d.beginBatch(Arrays.copyOfRange(samples, from, to), length);
                        sink = new TapSinks(sums, d);
                    }
                    group.add(resume == null ? new Member(batch, windows.subList(from, to), sink, d, from, to)
                            : new Member(batch, resumed(resume, from, to, length), sink, from, to));
                    inGroup += bytes;
                    from = to;
                }
                if (!group.isEmpty()) {
                    finishGroup(group, fromBlock, runTo, keep, windowsDone);
                }
                if (resume != null && resume.states().hasNext()) {
                    throw new IllegalStateException("kept states beyond the last of " + windows.size() + " windows");
                }
            } finally {
                group.forEach(Member::close);
            }
            return new Pass(new TapSums(acc.toHost(), windows.size(), tokens), depthSums,
                    new GramSums(gram.toHost(), windows.size()));
        }
    }

    /**
     * Hidden-state bytes (float32) of the batches that go through the blocks together in one forward
     * call: large enough that a real-size shard fetches each block a few times, small enough that the
     * group's residual streams (and their depth statistics' host copies) stay a fraction of the weights.
     */
    static final long GROUP_BYTES = 128L << 20;
    private volatile long groupBytes = GROUP_BYTES;

    /**
     * Where the depth statistics go when the caller does not say: device reductions
     * ({@link DeviceDepthAccumulator}) on a GPU, where every host copy is a transfer (or with the test
     * hook), else host scans.
     */
    private Depth defaultDepth() {
        return depthOnDevice || manager.getDevice().isGpu() ? Depth.DEVICE : Depth.HOST;
    }

    private volatile boolean depthOnDevice;

    /** Test hook: the device reductions on the CPU too, to compare them with the host scans. */
    void depthOnDevice(boolean on) {
        depthOnDevice = on;
    }

    /** Test hook: another group size, so that a few tiny windows make several groups. */
    void groupBytes(long bytes) {
        groupBytes = bytes;
    }

    /** One batch of a group on its way through the blocks: its scope, residual stream and sinks. */
    private final class Member implements AutoCloseable {
        final NDManager scope;
        final PositionTables.Tables pos;
        final TapSink sink;
        final BatchDepth depth;
        /** The batch's first window in the call, and one past its last. */
        final int start;
        final int end;
        NDArray h;

        /** A batch from its windows' embedding. */
        Member(NDManager scope, List<int[]> windows, TapSink sink, BatchDepth depth, int start, int end) {
            this(scope, positions.of(windows.get(0).length), embedding(scope, windows), sink, depth, start, end);
            sink.embedded(h);
        }

        /** A batch resumed from kept states (no depth statistics: those start at the embedding). */
        Member(NDManager scope, HiddenStates states, TapSink sink, int start, int end) {
            this(scope, positions.of(states.tokens()), toDevice(scope, states), sink, null, start, end);
        }

        private Member(NDManager scope, PositionTables.Tables pos, NDArray h, TapSink sink, BatchDepth depth, int start,
                       int end) {
            this.scope = scope;
            this.pos = pos;
            this.h = h;
            this.sink = sink;
            this.depth = depth;
            this.start = start;
            this.end = end;
        }

        @Override
        public void close() {
            scope.close();
        }
    }

    /** Runs the group through blocks fromBlock..runTo, ends each batch's depth statistics, and empties it. */
    private void finishGroup(List<Member> group, int fromBlock, int runTo, Keep keep, IntConsumer windowsDone) {
        int first = group.get(0).start;
        int windows = group.get(group.size() - 1).end - first;
        int blocks = Math.max(1, runTo - fromBlock + 1);
        runGroup(group, fromBlock, runTo, keep, windowsDone == null ? null
                : block -> windowsDone.accept(first + (int) ((long) windows * (block - fromBlock + 1) / blocks)));
        for (Member m : group) {
            if (m.depth != null) {
                m.depth.endBatch();
                depthNanos.addAndGet(m.depth.nanos());
            }
            m.close();
        }
        int done = group.get(group.size() - 1).end;
        group.clear();
        if (windowsDone != null) {
            windowsDone.accept(done);
        }
    }

    /**
     * Every member through blocks fromBlock..runTo, block by block (and the final norm when runTo is
     * the last block); a block's weights are acquired once for the whole group. {@code keep} (unless
     * null) gets each member's input of its block. {@code blockDone} (unless null) hears each block's
     * index once the group is through it.
     */
    private void runGroup(List<Member> group, int fromBlock, int runTo, Keep keep, IntConsumer blockDone) {
        for (int i = fromBlock; i <= runTo; i++) {
            if (keep != null && keep.block() == i) {
                keepStates(group, keep);
            }
            try (BlockSource.Lease lease = leaseBlock(i)) {
                for (Member m : group) {
                    try (NDManager block = m.scope.newSubManager()) {
                        m.h.attach(block);
                        NDArray in = m.h;
                        m.h = lease.block().forward(in, m.pos, m.sink);
                        m.sink.residual(i, in, m.h);
                        m.h.attach(m.scope);
                    }
                    blocksRun.incrementAndGet();
                }
            }
            if (blockDone != null) {
                blockDone.accept(i);
            }
        }
        if (keep != null && keep.block() == runTo + 1) {
            keepStates(group, keep);
        }
        String finalKey = Tap.FINAL_NORM.key(-1);
        if (runTo == config.numHiddenLayers() - 1) {
            for (Member m : group) {
                if (m.sink.wants(finalKey)) {
                    m.sink.accept(finalKey, DecoderBlock.rmsNorm(m.h, finalNorm, config.rmsNormEps()));
                }
            }
        }
    }

    /**
     * Debug and test hook: every tap of one sequence at every position, float32 row-major
     * [tokens * features] per tap key.
     */
    public Map<String, float[]> positionTaps(int[] window) {
        checkWindow(window, 0);
        PositionCapture capture = new PositionCapture();
        try (NDManager batch = manager.newSubManager()) {
            run(batch, List.of(window), lastBlock, capture);
        }
        return capture.values();
    }

    /**
     * Test hook: the residual stream and down_proj's input and output of one sequence, float32
     * row-major [tokens * features], under "residual/K" (K = 0 the embedding output, K = i + 1 block
     * i's output), "down_in/i" and "down_out/i".
     */
    Map<String, float[]> positionStreams(int[] window) {
        checkWindow(window, 0);
        PositionCapture capture = new PositionCapture();
        try (NDManager batch = manager.newSubManager()) {
            run(batch, List.of(window), lastBlock, capture);
        }
        return capture.streams();
    }

    // ---- Wanda's sequential procedure: one block at a time over hidden states kept between calls ----

    /** The embedding of equal-length {@code windows} (one batch), the input of block 0. */
    public HiddenStates embed(List<int[]> windows, int firstSample) {
        for (int s = 0; s < windows.size(); s++) {
            checkWindow(windows.get(s), firstSample + s);
            if (windows.get(s).length != windows.get(0).length) {
                throw new LayerscopeException("a batch needs windows of one length");
            }
        }
        try (NDManager batch = manager.newSubManager()) {
            return toHost(embedding(batch, windows), firstSample);
        }
    }

    /**
     * Block {@code block} with its dense weights over {@code states}: the sum over every token of
     * x^2 of each of its four taps (float32, as {@link #forward} sums them), for the masks of the
     * round. The block's output is not kept: the pass of the pruned block makes the next input.
     * Tests' shorthand for one batch; the rounds hold the block for all their batches ({@link #denseBlock}).
     */
    Map<String, float[]> denseBlockTaps(HiddenStates states, int block) {
        return denseBlockTaps(states, block, null, null);
    }

    /**
     * As {@link #denseBlockTaps(HiddenStates, int)}, and adds to {@code depth} (unless null) the dense
     * block's down_proj spikes ({@link DepthSums#downProj}) and its taps' |x| >= 6 counts
     * ({@link DepthSums#outlierBlocks}), marking the positions reached in {@code marks}: in sequential
     * mode, what the round's masks see.
     */
    Map<String, float[]> denseBlockTaps(HiddenStates states, int block, DepthSums depth, OutlierPositions marks) {
        try (DenseBlockRun run = denseBlock(block)) {
            return run.taps(states, depth, marks);
        }
    }

    /**
     * Block {@code block}'s dense weights leased for several batches of sequential mode's dense pass:
     * a streamed block is widened once for them all instead of once per batch. Close it after the
     * last batch.
     */
    public DenseBlockRun denseBlock(int block) {
        checkBlock(block);
        return new DenseBlockRun(leaseBlock(block));
    }

    /** A dense block held for a task's batches ({@link #denseBlock}). */
    public final class DenseBlockRun implements AutoCloseable {
        private final BlockSource.Lease lease;
        /** The depth statistics' host buffers, shared by the batches: a tap's copy is megabytes per batch. */
        private final Map<Integer, int[]> scratch = new HashMap<>();
        private final float[][] streams = new float[2][];

        private DenseBlockRun(BlockSource.Lease lease) {
            this.lease = lease;
        }

        /** {@link #denseBlockTaps(HiddenStates, int, DepthSums, OutlierPositions)} of one batch on the held block. */
        public Map<String, float[]> taps(HiddenStates states, DepthSums depth, OutlierPositions marks) {
            return taps(states, depth, marks, defaultDepth());
        }

        /** As above, the depth statistics (unless {@code depth} is null) fed as {@code where} says. */
        public Map<String, float[]> taps(HiddenStates states, DepthSums depth, OutlierPositions marks, Depth where) {
            int block = lease.block().index();
            try (NDManager batch = manager.newSubManager()) {
                Set<String> keys = new LinkedHashSet<>(tapKeysOf(block));
                TapAccumulator acc = new TapAccumulator(batch, keys);
                TapSink sink = acc;
                if (depth != null) {
                    BatchDepth d = where == Depth.DEVICE ? new DeviceDepthAccumulator(depth, batch, null)
                            : new DepthAccumulator(depth, scratch, streams);
                    d.beginBatch(states.samples(), states.tokens());
                    sink = new TapSinks(acc, d.denseRound(marks));
                }
                lease.block().forward(toDevice(batch, states), positions.of(states.tokens()), sink);
                blocksRun.incrementAndGet();
                return acc.toHost();
            }
        }

        @Override
        public void close() {
            lease.close();
        }
    }

    /**
     * Block {@code block} with masks applied to its seven Linears: the next block's input. The pruned
     * weights are built once per {@code roundId} on this model ({@code masks} is called only then) and
     * reused by every batch of the round.
     */
    public HiddenStates prunedBlock(HiddenStates states, int block, String roundId, Supplier<BlockMasks> masks) {
        return prunedBlock(states, block, roundId, masks, null, Depth.NONE);
    }

    /**
     * As above, adding the residual stream around the pruned block to {@code depth} (the pruned
     * stream's depth statistics) as {@code where} says: reduced on the device, where the block ran
     * (a GPU's stream would otherwise be scanned on the host every round), or scanned on the host
     * copy the next round reads anyway.
     */
    public HiddenStates prunedBlock(HiddenStates states, int block, String roundId, Supplier<BlockMasks> masks,
                                    DepthSums depth, Depth where) {
        checkBlock(block);
        // the pruned copy is built from the dense weights once per round (the only time they are
        // leased: a streamed block is widened for nothing else) and shares only the norms
        try (PrunedBlocks.Lease pruned = prunedBlocks.get(roundId, masks, block, this::leaseBlock);
             NDManager batch = manager.newSubManager()) {
            NDArray in = toDevice(batch, states);
            NDArray out = pruned.block().forward(in, positions.of(states.tokens()), TapSink.NONE);
            blocksRun.incrementAndGet();
            if (depth != null && where == Depth.DEVICE) {
                DeviceDepthAccumulator.blockStreams(depth, batch, block, states.samples(), states.tokens(), in, out);
            }
            HiddenStates next = toHost(out, states.firstSample());
            if (depth != null && where == Depth.HOST) {
                depth.blockStreams(block, states.samples(), states.floats(), next.floats(), states.tokens(), states.hidden());
            }
            return next;
        }
    }

    /** Block {@code index}'s dense weights for one use, counted: a streamed model widens them each time. */
    private BlockSource.Lease leaseBlock(int index) {
        blockLeases.incrementAndGet();
        return blocks.acquire(index);
    }

    /** How many times passes have leased a block's dense weights (a streamed model widened them). */
    long blockLeases() {
        return blockLeases.get();
    }

    /** lm_head's tap over the output of the last block: the sum over every token of the final norm's x^2. */
    public float[] finalNormTap(HiddenStates states) {
        if (finalNorm == null) {
            throw new LayerscopeException("the final norm is not loaded (blocks 0.." + lastBlock + " only)");
        }
        try (NDManager batch = manager.newSubManager()) {
            String key = Tap.FINAL_NORM.key(-1);
            TapAccumulator acc = new TapAccumulator(batch, Set.of(key));
            acc.accept(key, DecoderBlock.rmsNorm(toDevice(batch, states), finalNorm, config.rmsNormEps()));
            return acc.toHost().get(key);
        }
    }

    private void checkBlock(int block) {
        if (block < 0 || block > lastBlock) {
            throw new IllegalArgumentException("block " + block + " is not loaded (blocks 0.." + lastBlock + ")");
        }
    }

    private NDArray toDevice(NDManager batch, HiddenStates s) {
        DataType stored = s.float16() ? DataType.FLOAT16 : DataType.FLOAT32;
        if (stored != type) {
            throw new IllegalArgumentException("hidden states in " + stored + " for a model computing in " + type);
        }
        Shape shape = new Shape(s.sequences(), s.tokens(), s.hidden());
        NDArray cpu = DeviceArrays.fromBytes(batch.newSubManager(Device.cpu()), s.data(), shape, stored);
        NDArray h = cpu.toDevice(batch.getDevice(), true);
        h.attach(batch);
        return h;
    }

    private HiddenStates toHost(NDArray h, int firstSample) {
        Shape shape = h.getShape();
        return new HiddenStates(firstSample, (int) shape.get(0), (int) shape.get(1), (int) shape.get(2),
                h.getDataType() == DataType.FLOAT16, h.toByteArray());
    }

    /** The embedding rows of a batch of equal-length windows, [B, T, hidden], in {@code batch}. */
    private NDArray embedding(NDManager batch, List<int[]> windows) {
        int t = windows.get(0).length;
        long[] ids = new long[windows.size() * t];
        for (int s = 0; s < windows.size(); s++) {
            for (int i = 0; i < t; i++) {
                ids[s * t + i] = windows.get(s)[i];
            }
        }
        return embed.rows(batch, ids, new Shape(windows.size(), t, config.hiddenSize()));
    }

    /** Runs blocks 0..runTo (and the final norm when runTo is the last block) over equal-length windows. */
    private void run(NDManager batch, List<int[]> windows, int runTo, TapSink taps) {
        runGroup(List.of(new Member(batch, windows, taps, null, 0, windows.size())), 0, runTo, null, null);
    }

    private void keepStates(List<Member> group, Keep keep) {
        for (Member m : group) {
            keep.sink().accept(toHost(m.h, m.start));
        }
    }

    /** The kept states of the batch of windows start..end (of {@code tokens} each), checked against it. */
    private static HiddenStates resumed(Resume resume, int start, int end, int tokens) {
        if (!resume.states().hasNext()) {
            throw new IllegalStateException("no kept states for windows " + start + ".." + (end - 1));
        }
        HiddenStates s = resume.states().next();
        if (s.firstSample() != start || s.sequences() != end - start || s.tokens() != tokens) {
            throw new IllegalStateException("kept states of windows " + s.firstSample() + ".."
                    + (s.firstSample() + s.sequences() - 1) + " (" + s.tokens() + " tokens) where the batch is windows "
                    + start + ".." + (end - 1) + " (" + tokens + " tokens)");
        }
        return s;
    }

    /** A pass from kept states, or keeping them: no depth statistics, and no tap before its first block. */
    private void checkPassStates(Set<String> needed, boolean depth, int fromBlock, Keep keep) {
        int blocks = config.numHiddenLayers();
        if (depth) {
            throw new IllegalArgumentException("depth statistics start at the embedding: no kept states with them");
        }
        if (fromBlock < 0 || fromBlock > Math.min(blocks, lastBlock + 1)) {
            throw new IllegalArgumentException("no block " + fromBlock + " to resume at (blocks 0.." + lastBlock + ")");
        }
        for (String k : needed) {
            if (Tap.block(k, blocks) < fromBlock) {
                throw new IllegalArgumentException("tap " + k + " comes before block " + fromBlock + ", where the pass resumes");
            }
        }
        if (keep != null && (keep.block() < fromBlock || keep.block() > Math.min(blocks, lastBlock + 1))) {
            throw new IllegalArgumentException("cannot keep the input of block " + keep.block() + " in a pass from block "
                    + fromBlock + " (blocks 0.." + lastBlock + " loaded)");
        }
    }

    private Set<String> checkTapKeys(Collection<String> keys) {
        List<String> available = tapKeys();
        Set<String> wanted = new LinkedHashSet<>();
        for (String k : keys) {
            if (!available.contains(k)) {
                throw new LayerscopeException("tap \"" + k + "\" is not available from this model (blocks 0.." + lastBlock
                        + " loaded" + (finalNorm == null ? ", final norm not loaded" : "") + "); available: "
                        + String.join(", ", available));
            }
            wanted.add(k);
        }
        return wanted;
    }

    private int lastBlockNeeded(Set<String> wanted) {
        if (wanted.contains(Tap.FINAL_NORM.key(-1))) {
            return config.numHiddenLayers() - 1;
        }
        int last = -1;
        for (String k : wanted) {
            last = Math.max(last, Tap.block(k, config.numHiddenLayers()));
        }
        return last;
    }

    private int checkWindow(int[] window, int index) {
        if (window == null || window.length == 0) {
            throw new LayerscopeException("calibration window " + index + " is empty; every window needs at least one token");
        }
        int vocab = config.vocabSize();
        for (int i = 0; i < window.length; i++) {
            if (window[i] < 0 || window[i] >= vocab) {
                throw new LayerscopeException("calibration window " + index + " has token id " + window[i] + " at position " + i
                        + ", outside the model's vocabulary of " + vocab
                        + " tokens; the tokenizer does not match the model (use the model's own tokenizer.json)");
            }
        }
        return window.length;
    }

    /** Tap keys this model can report, in forward order: 4 per loaded block, then the final norm if loaded. */
    public List<String> tapKeys() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i <= lastBlock; i++) {
            for (Tap tap : new Tap[] {Tap.ATTN_IN, Tap.ATTN_OUT, Tap.MLP_IN, Tap.MLP_ACT}) {
                keys.add(tap.key(i));
            }
        }
        if (finalNorm != null) {
            keys.add(Tap.FINAL_NORM.key(-1));
        }
        return keys;
    }

    /** The four tap keys of loaded block {@code block}, in forward order: a forward asked for them alone runs that block last. */
    public List<String> tapKeysOf(int block) {
        if (block < 0 || block > lastBlock) {
            throw new IllegalArgumentException("block " + block + " is not loaded (blocks 0.." + lastBlock + ")");
        }
        return tapKeys().subList(4 * block, 4 * block + 4);
    }

    /** Sequences per forward when not given: 1 on the CPU (matmuls are already large), 4 on a GPU. */
    public int defaultBatchSize() {
        return manager.getDevice().isGpu() ? 4 : 1;
    }

    /**
     * Seconds the depth statistics' accumulators of this model's passes took so far (host copies
     * and Java scans, not the forward they ride on); benchmarks read it before and after a pass.
     */
    public double depthStatisticsSeconds() {
        return depthNanos.get() / 1e9;
    }

    /** Decoder block forwards run since loading, summed over batches (a batch of 3 through 2 blocks counts 2). */
    public long blocksRun() {
        return blocksRun.get();
    }

    public int lastBlock() {
        return lastBlock;
    }

    public LlamaConfig config() {
        return config;
    }

    public Device device() {
        return manager.getDevice();
    }

    /** The compute type the weights were cast to (FLOAT32 or FLOAT16). */
    public DataType computeType() {
        return type;
    }

    /** The model's long-lived manager; tests count its live arrays. */
    NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        blocks.close();
        manager.close();
    }
}
