package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
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
        int hidden = c.hiddenSize();
        int q = c.numAttentionHeads() * c.headDim();
        int kv = c.numKeyValueHeads() * c.headDim();
        int inter = c.intermediateSize();
        Map<LayerKind, int[]> shapes = new EnumMap<>(Map.of(LayerKind.Q_PROJ, new int[] {q, hidden},
                LayerKind.K_PROJ, new int[] {kv, hidden}, LayerKind.V_PROJ, new int[] {kv, hidden},
                LayerKind.O_PROJ, new int[] {hidden, q}, LayerKind.GATE_PROJ, new int[] {inter, hidden},
                LayerKind.UP_PROJ, new int[] {inter, hidden}, LayerKind.DOWN_PROJ, new int[] {hidden, inter}));
        SplittableRandom rnd = new SplittableRandom(5);
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
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray norm = m.ones(new Shape(hidden), dtype);
            NDArray qkv = random(m, rnd, q + 2 * kv, hidden, dtype);
            NDArray o = random(m, rnd, hidden, q, dtype);
            NDArray gateUp = random(m, rnd, 2 * inter, hidden, dtype);
            NDArray down = random(m, rnd, hidden, inter, dtype);
            DecoderBlock dense = new DecoderBlock(0, new BlockWeights(norm, qkv, o, norm, gateUp, down), c);

            PrunedBlocks blocks = new PrunedBlocks(m, c);
            DecoderBlock pruned = blocks.get("round-0", () -> new BlockMasks(0, masks), dense);

            BlockWeights p = pruned.weights();
            check(qkv, p.qkv(), List.of(masks.get(LayerKind.Q_PROJ), masks.get(LayerKind.K_PROJ), masks.get(LayerKind.V_PROJ)));
            check(o, p.o(), List.of(masks.get(LayerKind.O_PROJ)));
            check(gateUp, p.gateUp(), List.of(masks.get(LayerKind.GATE_PROJ), masks.get(LayerKind.UP_PROJ)));
            check(down, p.down(), List.of(masks.get(LayerKind.DOWN_PROJ)));
            assertSame(norm, p.inputNorm());
            // built once per round: the masks are not asked for again
            assertSame(pruned, blocks.get("round-0", () -> {
                throw new AssertionError("masks asked for twice");
            }, dense));
        }
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
