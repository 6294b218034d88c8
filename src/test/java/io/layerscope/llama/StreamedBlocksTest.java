package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import io.layerscope.prune.BlockMasks;
import io.layerscope.prune.LayerMask;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.GramSums;
import io.layerscope.stats.OutlierPositions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link LlamaModel.Residency#STREAMED} against {@link LlamaModel.Residency#RESIDENT}: the same floats
 * from every kind of pass (the reference test checks both against plain Java), groups of batches
 * against one batch at a time, concurrent passes, and what a streamed model holds.
 */
class StreamedBlocksTest {
    @TempDir
    Path tmp;

    private Checkpoint model(DType dtype) {
        return Checkpoint.open(TinyModels.gqa(dtype).write(tmp.resolve("m-" + dtype)));
    }

    private static LlamaModel load(Checkpoint ckpt, LlamaModel.Residency residency) {
        return LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32, ckpt.config().numHiddenLayers() - 1, residency);
    }

    /** Tap sums, depth statistics and Gram matrices of a multi-batch pass, and the residual streams, bit for bit. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16", "F32"})
    void aStreamedModelComputesTheResidentModelsFloats(DType dtype) throws IOException {
        Checkpoint ckpt = model(dtype);
        List<int[]> windows = TinyModels.windows(5, 9, 17);
        windows.add(TinyModels.windows(1, 4, 18).get(0));
        int[] samples = {7, 3, 9, 1, 4, 0};
        LlamaModel.Pass resident;
        LlamaModel.Pass streamed;
        Map<String, float[]> residentStreams;
        Map<String, float[]> streamedStreams;
        try (LlamaModel model = load(ckpt, LlamaModel.Residency.RESIDENT)) {
            resident = model.forward(windows, samples, 2, model.tapKeys(), true, List.of("0/MLP_ACT", "1/ATTN_IN"));
            residentStreams = model.positionStreams(windows.get(0));
        }
        try (LlamaModel model = load(ckpt, LlamaModel.Residency.STREAMED)) {
            streamed = model.forward(windows, samples, 2, model.tapKeys(), true, List.of("0/MLP_ACT", "1/ATTN_IN"));
            streamedStreams = model.positionStreams(windows.get(0));
        }
        assertEquals(resident.sums().keys(), streamed.sums().keys());
        for (String key : resident.sums().keys()) {
            assertArrayEquals(resident.sums().sumSq().get(key), streamed.sums().sumSq().get(key), key);
        }
        for (String key : List.of("0/MLP_ACT", "1/ATTN_IN")) {
            assertArrayEquals(resident.grams().matrix(key), streamed.grams().matrix(key), key);
        }
        assertArrayEquals(bytes(resident.depth()), bytes(streamed.depth()), "depth statistics");
        assertEquals(residentStreams.keySet(), streamedStreams.keySet());
        residentStreams.forEach((k, v) -> assertArrayEquals(v, streamedStreams.get(k), k));
    }

    /** Sequential mode's calls work on a streamed model too, with the resident model's floats. */
    @Test
    void sequentialCallsOnAStreamedModelGiveTheResidentFloats() {
        Checkpoint ckpt = model(DType.BF16);
        List<int[]> windows = TinyModels.windows(1, 8, 23);
        List<Object> got = new ArrayList<>();
        for (LlamaModel.Residency r : LlamaModel.Residency.values()) {
            try (LlamaModel model = load(ckpt, r)) {
                HiddenStates h = model.embed(windows, 0);
                DepthSums depth = new DepthSums();
                Map<String, float[]> taps = model.denseBlockTaps(h, 0, depth, new OutlierPositions());
                HiddenStates next = model.prunedBlock(h, 0, "round-0", () -> everyOtherEntry(ckpt, 0));
                got.add(List.of(taps, next.floats()));
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, float[]> a = (Map<String, float[]>) ((List<Object>) got.get(0)).get(0);
        @SuppressWarnings("unchecked")
        Map<String, float[]> b = (Map<String, float[]>) ((List<Object>) got.get(1)).get(0);
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v, b.get(k), k));
        assertArrayEquals((float[]) ((List<?>) got.get(0)).get(1), (float[]) ((List<?>) got.get(1)).get(1), "pruned block output");
    }

    /**
     * Sequential mode's dense pass leases its block once for all of a task's batches and the pruned
     * pass once per round (to build the copy); each batch gets the taps a lease of its own gives.
     */
    @Test
    void sequentialPassesLeaseTheDenseBlockOncePerTaskAndRound() {
        Checkpoint ckpt = model(DType.BF16);
        try (LlamaModel model = load(ckpt, LlamaModel.Residency.STREAMED)) {
            List<HiddenStates> batches = new ArrayList<>();
            List<Map<String, float[]>> alone = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                batches.add(model.embed(TinyModels.windows(1, 8, 40 + k), k));
                alone.add(model.denseBlockTaps(batches.get(k), 1));
            }
            long before = model.blockLeases();
            try (LlamaModel.DenseBlockRun run = model.denseBlock(1)) {
                for (int k = 0; k < 3; k++) {
                    Map<String, float[]> taps = run.taps(batches.get(k), null, null);
                    assertEquals(alone.get(k).keySet(), taps.keySet());
                    Map<String, float[]> expected = alone.get(k);
                    taps.forEach((key, v) -> assertArrayEquals(expected.get(key), v, key));
                }
            }
            assertEquals(1, model.blockLeases() - before);
            before = model.blockLeases();
            for (HiddenStates h : batches) {
                model.prunedBlock(h, 0, "round-0", () -> everyOtherEntry(ckpt, 0));
            }
            assertEquals(1, model.blockLeases() - before);
        }
    }

    /**
     * A group size of two windows' hidden state makes three groups of six windows (batches of 1):
     * the sums, depth statistics and Gram matrices equal those of one batch per call merged in
     * order, which is what stage one did before groups; progress is told after each block.
     */
    @Test
    void groupsOfBatchesEqualOneBatchPerCallMerged() throws IOException {
        Checkpoint ckpt = model(DType.BF16);
        List<int[]> windows = TinyModels.windows(6, 7, 29);
        int[] samples = {0, 1, 2, 3, 4, 5};
        List<String> grams = List.of("1/MLP_IN");
        try (LlamaModel model = load(ckpt, LlamaModel.Residency.STREAMED)) {
            model.groupBytes(2L * 7 * ckpt.config().hiddenSize() * Float.BYTES);
            List<Integer> told = new ArrayList<>();
            long blocksBefore = model.blocksRun();
            LlamaModel.Pass grouped = model.forward(windows, samples, 1, model.tapKeys(), true, grams, told::add);
            // after each of the 2 blocks, in proportion, and the count of whole groups at each group's end
            assertEquals(List.of(1, 2, 2, 3, 4, 4, 5, 6, 6), told);
            assertEquals(6L * 2, model.blocksRun() - blocksBefore);
            TapSums sums = TapSums.empty();
            DepthSums depth = new DepthSums();
            GramSums gram = GramSums.empty();
            for (int s = 0; s < windows.size(); s++) {
                LlamaModel.Pass one = model.forward(windows.subList(s, s + 1), new int[] {s}, 1, model.tapKeys(), true, grams);
                sums = sums.merge(one.sums());
                depth = depth.merge(one.depth());
                gram = gram.merge(one.grams());
            }
            for (String key : sums.keys()) {
                assertArrayEquals(sums.sumSq().get(key), grouped.sums().sumSq().get(key), key);
            }
            assertEquals(6, grouped.sums().nsamples());
            assertEquals(42, grouped.sums().ntokens());
            assertArrayEquals(bytes(depth), bytes(grouped.depth()), "depth statistics");
            assertArrayEquals(gram.matrix("1/MLP_IN"), grouped.grams().matrix("1/MLP_IN"), "Gram matrix");
        }
    }

    /**
     * The batches of a group feed one set of depth statistics: a set per batch (a 32768-bin |h|
     * histogram, 256 KiB, per block and batch, and counts per block) made the heap of a real-size
     * shard of short windows grow with its window count (at 1B, 6 MB per 256-token window).
     */
    @Test
    void aGroupsDepthStatisticsDoNotGrowTheHeapPerBatch() {
        Checkpoint ckpt = model(DType.BF16);
        int n = 48;
        List<int[]> windows = TinyModels.windows(n, 5, 41);
        int[] samples = java.util.stream.IntStream.range(0, n).toArray();
        try (LlamaModel model = load(ckpt, LlamaModel.Residency.STREAMED)) {
            for (int warm = 0; warm < 2; warm++) {
                model.forward(windows, samples, 1, model.tapKeys(), warm == 0, List.of());
            }
            // what depth adds per batch: the forward itself allocates Java objects per batch too
            long perBatch = perBatch(model, windows, samples, true) - perBatch(model, windows, samples, false);
            int blocks = ckpt.config().numHiddenLayers();
            assertTrue(perBatch < blocks * (256 << 10) / 4, "the depth statistics allocate " + perBatch + " bytes per batch");
        }
    }

    /**
     * Sequential mode's dense pass with the depth statistics: the taps' host copies are reused from
     * batch to batch of a task, and the |x| >= 6 test packs its marks directly, with no flag per entry.
     */
    @Test
    void aDenseRoundsDepthStatisticsReuseTheirBuffersFromBatchToBatch() {
        Checkpoint ckpt = model(DType.BF16);
        int tokens = 1024;   // enough entries that a byte per entry would stand out above the fixed costs
        io.layerscope.model.LlamaConfig c = ckpt.config();
        long entries = (long) tokens * (3L * c.hiddenSize() + c.intermediateSize());   // the four taps of a block
        try (LlamaModel model = load(ckpt, LlamaModel.Residency.STREAMED);
             LlamaModel.DenseBlockRun run = model.denseBlock(1)) {
            HiddenStates states = model.embed(TinyModels.windows(1, tokens, 43), 0);
            OutlierPositions marks = new OutlierPositions();
            for (int warm = 0; warm < 3; warm++) {
                run.taps(states, new DepthSums(), marks.copy());
                run.taps(states, null, null);
            }
            long with = Long.MAX_VALUE;
            long without = Long.MAX_VALUE;
            for (int k = 0; k < 3; k++) {   // the least of three: a JIT compilation may allocate on the thread
                with = Math.min(with, allocated(() -> run.taps(states, new DepthSums(), marks.copy())));
                without = Math.min(without, allocated(() -> run.taps(states, null, null)));
            }
            long depth = with - without;
            assertTrue(depth < entries / 2, "a batch's depth statistics allocate " + depth + " bytes for " + entries
                    + " tap entries");
        }
    }

    /** Heap bytes a forward pass over the windows allocates per window beyond the first, depth statistics on or off. */
    private static long perBatch(LlamaModel model, List<int[]> windows, int[] samples, boolean depth) {
        long one = allocated(() -> model.forward(windows.subList(0, 1), new int[] {samples[0]}, 1, model.tapKeys(), depth,
                List.of()));
        long all = allocated(() -> model.forward(windows, samples, 1, model.tapKeys(), depth, List.of()));
        return (all - one) / (windows.size() - 1);
    }

    /** Bytes this thread allocated on the heap while {@code work} ran. */
    private static long allocated(Runnable work) {
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long before = bean.getThreadAllocatedBytes(id);
        work.run();
        return bean.getThreadAllocatedBytes(id) - before;
    }

    /** Two passes at once take two sets of buffers and each gets the floats it gets alone. */
    @Test
    void concurrentStreamedPassesAgreeWithSequentialOnes() throws Exception {
        try (LlamaModel model = load(model(DType.BF16), LlamaModel.Residency.STREAMED)) {
            LlamaModelTest.assertConcurrentPassesAgree(model, 5);
        }
    }

    /**
     * A streamed bf16 model holds the norms only (2 blocks x 2, and the final norm; the embedding
     * stays as stored); a model on the device route, float16 here, is resident whatever is asked.
     */
    @Test
    void aStreamedModelHoldsOnlyTheNorms() {
        Checkpoint ckpt = model(DType.BF16);
        try (LlamaModel model = load(ckpt, LlamaModel.Residency.STREAMED)) {
            assertEquals(5, model.manager().getManagedArrays().size());
            model.forward(TinyModels.windows(2, 5, 3));
            int afterOne = model.manager().getManagedArrays().size();
            for (int i = 0; i < 3; i++) {
                model.forward(TinyModels.windows(2, 5, 4 + i));
            }
            // the set of block buffers the first pass made is reused, not made again
            assertEquals(afterOne, model.manager().getManagedArrays().size());
        }
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT16, 1, LlamaModel.Residency.STREAMED)) {
            assertEquals(14, model.manager().getManagedArrays().size());
        }
    }

    /** Masks pruning every other entry of each of the block's Linear layers. */
    private static BlockMasks everyOtherEntry(Checkpoint ckpt, int block) {
        Map<LayerKind, LayerMask> masks = new EnumMap<>(LayerKind.class);
        for (PrunableLayer l : ckpt.prunableLayers()) {
            if (l.block() == block) {
                LayerMask.Builder m = new LayerMask.Builder(l.outFeatures(), l.inFeatures());
                for (int i = 0; i < l.outFeatures(); i++) {
                    byte[] row = new byte[l.inFeatures()];
                    for (int j = (i % 2); j < row.length; j += 2) {
                        row[j] = 1;
                    }
                    m.row(i, row);
                }
                masks.put(l.kind(), m.build());
            }
        }
        return new BlockMasks(block, masks);
    }

    private static byte[] bytes(Serializable o) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ObjectOutputStream s = new ObjectOutputStream(out)) {
            s.writeObject(o);
        }
        byte[] b = out.toByteArray();
        assertFalse(b.length == 0);
        assertTrue(b.length > 100, "serialized " + b.length + " bytes");
        return b;
    }
}
