package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.LayerKind;
import io.layerscope.model.LlamaConfig;
import io.layerscope.prune.BlockMasks;
import io.layerscope.prune.LayerMask;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** The pruned copy of a block against a plain loop over its dense weights and packed masks. */
class PrunedBlocksTest {
    /** Values whose zeroing shows: negatives (a product by 0 would leave -0), -0 itself, NaN kept where not masked. */
    private static final float[] VALUES = {-1.5f, -0f, 0f, 2f, -3e-8f, Float.NaN, 0.25f};

    /** float32 on the CPU zeroes a copy in place; float16 takes the device path (torch.where), here on CPU libtorch. */
    @ParameterizedTest
    @ValueSource(strings = {"FLOAT32", "FLOAT16"})
    void theCopyHasPositiveZeroWhereMaskedAndTheDenseBitsElsewhere(String type, @TempDir Path tmp) {
        DataType dtype = DataType.valueOf(type);
        LlamaConfig c = Checkpoint.open(TinyModels.gqa(DType.F32).write(tmp.resolve("m"))).config();
        SplittableRandom rnd = new SplittableRandom(5);
        Map<LayerKind, LayerMask> masks = randomMasks(c, rnd);
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            DecoderBlock dense = randomBlock(m, c, rnd, dtype);
            int[] denseLeases = {0};

            PrunedBlocks blocks = new PrunedBlocks(m, c);
            try (PrunedBlocks.Lease pruned = blocks.get("round-0", () -> new BlockMasks(0, masks), 0,
                    i -> lease(dense, denseLeases))) {
                check(dense.weights(), pruned.block().weights(), masks);
                assertSame(dense.weights().inputNorm(), pruned.block().weights().inputNorm());
                // built once per round: neither the masks nor the dense block are asked for again
                try (PrunedBlocks.Lease again = blocks.get("round-0", () -> {
                    throw new AssertionError("masks asked for twice");
                }, 0, i -> lease(dense, denseLeases))) {
                    assertSame(pruned.block(), again.block());
                }
                assertEquals(1, denseLeases[0]);
            }
        }
    }

    /**
     * Rounds after the kept two overwrite the float32 arrays of a copy no pass holds, with the new
     * round's values; a copy dropped while a pass holds it keeps its values until the pass lets go,
     * and only then is overwritten. float16 (the torch.where path) makes new arrays every round.
     */
    @ParameterizedTest
    @ValueSource(strings = {"FLOAT32", "FLOAT16"})
    void laterRoundsOverwriteOnlyCopiesNoPassHolds(String type, @TempDir Path tmp) {
        DataType dtype = DataType.valueOf(type);
        boolean reused = dtype == DataType.FLOAT32;
        LlamaConfig c = Checkpoint.open(TinyModels.gqa(DType.F32).write(tmp.resolve("m"))).config();
        SplittableRandom rnd = new SplittableRandom(11);
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            DecoderBlock dense = randomBlock(m, c, rnd, dtype);
            List<Map<LayerKind, LayerMask>> masks = new ArrayList<>();
            for (int r = 0; r < 5; r++) {
                masks.add(randomMasks(c, rnd));
            }
            PrunedBlocks blocks = new PrunedBlocks(m, c);
            int[] leases = {0};
            Function<Integer, PrunedBlocks.Lease> round = r -> blocks.get("round-" + r,
                    () -> new BlockMasks(0, masks.get(r)), 0, i -> lease(dense, leases));

            NDArray first;
            try (PrunedBlocks.Lease r0 = round.apply(0)) {
                first = r0.block().weights().gateUp();
            }
            round.apply(1).close();
            try (PrunedBlocks.Lease r2 = round.apply(2)) {
                // round 0 was dropped with no pass on it: round 2 is written into its arrays
                assertEquals(reused, r2.block().weights().gateUp() == first);
                check(dense.weights(), r2.block().weights(), masks.get(2));
            }
            PrunedBlocks.Lease held = round.apply(1);
            NDArray second = held.block().weights().gateUp();
            round.apply(3).close();
            try (PrunedBlocks.Lease r4 = round.apply(4)) {
                // round 1, dropped now, is still in use: round 4 gets other arrays, round 1 keeps its values
                assertNotSame(second, r4.block().weights().gateUp());
                check(dense.weights(), held.block().weights(), masks.get(1));
                check(dense.weights(), r4.block().weights(), masks.get(4));
            }
            held.close();
            try (PrunedBlocks.Lease r0 = round.apply(0)) {
                // round 1's arrays were set aside when its pass let go
                assertEquals(reused, r0.block().weights().gateUp() == second);
                check(dense.weights(), r0.block().weights(), masks.get(0));
            }
            assertEquals(6, leases[0]);
        }
    }

    private static BlockSource.Lease lease(DecoderBlock block, int[] count) {
        count[0]++;
        return new BlockSource.Lease() {
            @Override
            public DecoderBlock block() {
                return block;
            }

            @Override
            public void close() {
            }
        };
    }

    /** Random masks of the shapes of {@code c}'s seven Linears. */
    private static Map<LayerKind, LayerMask> randomMasks(LlamaConfig c, SplittableRandom rnd) {
        int hidden = c.hiddenSize();
        int q = c.numAttentionHeads() * c.headDim();
        int kv = c.numKeyValueHeads() * c.headDim();
        int inter = c.intermediateSize();
        Map<LayerKind, int[]> shapes = new EnumMap<>(Map.of(LayerKind.Q_PROJ, new int[] {q, hidden},
                LayerKind.K_PROJ, new int[] {kv, hidden}, LayerKind.V_PROJ, new int[] {kv, hidden},
                LayerKind.O_PROJ, new int[] {hidden, q}, LayerKind.GATE_PROJ, new int[] {inter, hidden},
                LayerKind.UP_PROJ, new int[] {inter, hidden}, LayerKind.DOWN_PROJ, new int[] {hidden, inter}));
        Map<LayerKind, LayerMask> masks = new EnumMap<>(LayerKind.class);
        shapes.forEach((kind, s) -> {
            LayerMask.Builder b = new LayerMask.Builder(s[0], s[1]);
            byte[] row = new byte[s[1]];
            for (int i = 0; i < s[0]; i++) {
                for (int j = 0; j < s[1]; j++) {
                    row[j] = (byte) rnd.nextInt(2);
                }
                b.row(i, row);
            }
            masks.put(kind, b.build());
        });
        return masks;
    }

    /** Block 0 of {@code c}'s shapes with random weights in {@code dtype}. */
    private static DecoderBlock randomBlock(NDManager m, LlamaConfig c, SplittableRandom rnd, DataType dtype) {
        int hidden = c.hiddenSize();
        int q = c.numAttentionHeads() * c.headDim();
        int kv = c.numKeyValueHeads() * c.headDim();
        int inter = c.intermediateSize();
        NDArray norm = m.ones(new Shape(hidden), dtype);
        return new DecoderBlock(0, new BlockWeights(norm, random(m, rnd, q + 2 * kv, hidden, dtype),
                random(m, rnd, hidden, q, dtype), norm, random(m, rnd, 2 * inter, hidden, dtype),
                random(m, rnd, hidden, inter, dtype)), c);
    }

    /** Every pruned weight of {@code p} against the dense {@code w} and {@code masks}. */
    private static void check(BlockWeights w, BlockWeights p, Map<LayerKind, LayerMask> masks) {
        check(w.qkv(), p.qkv(), List.of(masks.get(LayerKind.Q_PROJ), masks.get(LayerKind.K_PROJ), masks.get(LayerKind.V_PROJ)));
        check(w.o(), p.o(), List.of(masks.get(LayerKind.O_PROJ)));
        check(w.gateUp(), p.gateUp(), List.of(masks.get(LayerKind.GATE_PROJ), masks.get(LayerKind.UP_PROJ)));
        check(w.down(), p.down(), List.of(masks.get(LayerKind.DOWN_PROJ)));
    }

    private static NDArray random(NDManager m, SplittableRandom rnd, int rows, int cols, DataType dtype) {
        float[] v = new float[rows * cols];
        for (int k = 0; k < v.length; k++) {
            v[k] = rnd.nextInt(4) == 0 ? VALUES[rnd.nextInt(VALUES.length)] : (float) rnd.nextGaussian();
        }
        return m.create(v, new Shape(rows, cols)).toType(dtype, false);
    }

    /** {@code copy} against {@code dense} with the parts' rows stacked: +0 (all bits clear) where masked, else the same bits. */
    private static void check(NDArray dense, NDArray copy, List<LayerMask> parts) {
        assertEquals(dense.getShape(), copy.getShape());
        assertEquals(dense.getDataType(), copy.getDataType());
        // float16 widens to float32 exactly, +0 to +0
        float[] d = dense.toType(DataType.FLOAT32, true).toFloatArray();
        float[] p = copy.toType(DataType.FLOAT32, true).toFloatArray();
        int cols = (int) dense.getShape().get(1);
        int row = 0;
        for (LayerMask part : parts) {
            for (int i = 0; i < part.out(); i++, row++) {
                for (int j = 0; j < cols; j++) {
                    int k = row * cols + j;
                    int expected = part.pruned(i, j) ? 0 : Float.floatToRawIntBits(d[k]);
                    assertEquals(expected, Float.floatToRawIntBits(p[k]), "row " + row + " col " + j);
                }
            }
        }
        assertEquals(row, dense.getShape().get(0));
    }
}
