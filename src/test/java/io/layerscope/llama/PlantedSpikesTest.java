package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DType;
import io.layerscope.model.SyntheticLlama;
import io.layerscope.stats.DepthStatistics;
import io.layerscope.stats.DepthStatistics.BlockDepth;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.Peak;
import io.layerscope.stats.SuperWeight;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint with a planted super weight: block 0's up_proj and gate_proj row J scaled up (so
 * down_proj's input spikes on channel J) and down_proj.weight[I, J] set large (so its output, and
 * the residual stream after it, spike on channel I on the same token). The depth statistics must
 * find it at its exact coordinates, and flag the block output as a massive activation.
 */
class PlantedSpikesTest {
    static final int HIDDEN = 32;
    static final int INTERMEDIATE = 48;
    static final int I = 5;
    static final int J = 7;
    static final float SUPER = 30f;

    /** The planted model, shared with the sweep test. */
    public static SyntheticLlama planted() {
        return SyntheticLlama.builder().hidden(HIDDEN).intermediate(INTERMEDIATE).layers(3).heads(4).kvHeads(2).headDim(8)
                .vocab(TinyModels.VOCAB).dtype(DType.F32).seed(3).weightStd(0.02)
                .scaleRow("model.layers.0.mlp.up_proj.weight", J, HIDDEN, 300f)
                .scaleRow("model.layers.0.mlp.gate_proj.weight", J, HIDDEN, 100f)
                .plant("model.layers.0.mlp.down_proj.weight", I, J, INTERMEDIATE, SUPER);
    }

    @TempDir
    Path tmp;

    @Test
    void thePlantedSuperWeightIsFoundWithItsCoordinates() {
        Checkpoint ckpt = Checkpoint.open(planted().write(tmp.resolve("m")));
        List<int[]> windows = TinyModels.windows(3, 10, 77);
        DepthSums depth;
        Peak in = null;
        Peak out = null;
        try (LlamaModel model = LlamaModel.load(ckpt, Device.cpu(), ComputeDtype.FLOAT32)) {
            depth = model.forwardWithDepth(windows, IntStream.range(0, 3).toArray(), 1, List.of()).depth();
            for (int s = 0; s < windows.size(); s++) {
                Map<String, float[]> streams = model.positionStreams(windows.get(s));
                in = Peak.first(in, largest(streams.get("down_in/0"), INTERMEDIATE, s));
                out = Peak.first(out, largest(streams.get("down_out/0"), HIDDEN, s));
            }
        }
        BlockDepth b0 = DepthStatistics.blocks(depth).get(0);
        assertEquals(J, in.channel());
        assertEquals(I, out.channel());
        assertTrue(in.sameToken(out));
        assertEquals(in, b0.downIn());
        assertEquals(out, b0.downOut());
        assertTrue(b0.massive(), "top " + b0.top() + ", median " + b0.medianAbs());
        assertEquals(I, b0.top().channel());

        float[] row = ckpt.readFloats("model.layers.0.mlp.down_proj.weight");
        float[] rowI = java.util.Arrays.copyOfRange(row, I * INTERMEDIATE, (I + 1) * INTERMEDIATE);
        SuperWeight w = SuperWeight.check(0, b0.downIn(), b0.downOut(), rowI, null, 0.5);
        assertNotNull(w);
        assertEquals(I, w.row());
        assertEquals(J, w.column());
        assertEquals(SUPER, w.weight());
        assertEquals(1, w.rankInRow());
        assertFalse(w.prunedMagnitudeRow());
        assertEquals(null, w.prunedWandaRow());
    }

    /** The largest |x| of one sequence [tokens * width], the first of equal ones. */
    private static Peak largest(float[] x, int width, int sample) {
        Peak best = null;
        for (int k = 0; k < x.length; k++) {
            if (best == null || Math.abs(x[k]) > best.abs()) {
                best = new Peak(Math.abs(x[k]), sample, k / width, k % width);
            }
        }
        return best;
    }
}
