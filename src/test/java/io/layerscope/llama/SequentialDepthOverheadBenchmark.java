package io.layerscope.llama;

import io.layerscope.bench.BenchWorkload;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import io.layerscope.prune.BlockMasks;
import io.layerscope.prune.LayerMask;
import io.layerscope.prune.LayerPruner;
import io.layerscope.prune.SparsityPattern;
import io.layerscope.stats.DepthSums;
import io.layerscope.stats.OutlierPositions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Sequential mode's executor work per round (the dense pass of a block over every batch, then the
 * pruned pass) without and with the depth statistics of the pruned stream (docs/PERFORMANCE.md), on
 * the mid-size shape (without jobs/bench's planted outlier features) and the random windows of
 * {@link DepthOverheadBenchmark}, every block in turn. Spark's part
 * (persisting the states and the outlier marks) is not in it. Rounds alternate the two. Run as
 * {@link LlamaForwardBenchmark} says, with this class's name (optional argument: rounds, default 3).
 */
@Tag("benchmark")
class SequentialDepthOverheadBenchmark {
    private static final int SAMPLES = 16;
    private static final int TOKENS = 256;

    @Test
    void midSizedModel() throws Exception {
        run(3);
    }

    static void run(int rounds) throws Exception {
        try (MidSizeBenchModel m = MidSizeBenchModel.write()) {
            Checkpoint ckpt = m.checkpoint();
            List<int[]> windows = BenchWorkload.randomWindows(SAMPLES, TOKENS);
            double[] plain = new double[rounds];
            double[] depth = new double[rounds];
            try (LlamaModel model = m.load()) {
                sweep(model, ckpt, windows.subList(0, 2), true, "warm-up");
                for (int r = 0; r < rounds; r++) {
                    long s = System.nanoTime();
                    sweep(model, ckpt, windows, false, "plain-" + r);
                    plain[r] = (System.nanoTime() - s) / 1e9;
                    s = System.nanoTime();
                    sweep(model, ckpt, windows, true, "depth-" + r);
                    depth[r] = (System.nanoTime() - s) / 1e9;
                    System.out.printf("round %d: without %.3f s, with depth statistics %.3f s (%+.1f%%)%n", r + 1, plain[r],
                            depth[r], 100 * (depth[r] / plain[r] - 1));
                }
            }
            Arrays.sort(plain);
            Arrays.sort(depth);
            System.out.printf("median of %d rounds: without %.3f s, with %.3f s (%+.1f%%); best: %.3f vs %.3f s (%+.1f%%);"
                    + " threads %s%n", rounds, plain[rounds / 2], depth[rounds / 2], 100 * (depth[rounds / 2] / plain[rounds / 2] - 1),
                    plain[0], depth[0], 100 * (depth[0] / plain[0] - 1), System.getProperty("ai.djl.pytorch.num_threads", "default"));
        }
    }

    /** Every block in turn over every window, one sequence per batch, as SequentialStage's tasks do. */
    private static void sweep(LlamaModel model, Checkpoint ckpt, List<int[]> windows, boolean withDepth, String id) {
        List<HiddenStates> states = new ArrayList<>();
        List<OutlierPositions> marks = new ArrayList<>();
        for (int s = 0; s < windows.size(); s++) {
            states.add(model.embed(List.of(windows.get(s)), s));
            marks.add(new OutlierPositions());
        }
        DepthSums sums = new DepthSums();
        for (int b = 0; b <= model.lastBlock(); b++) {
            Map<String, float[]> rows = new java.util.LinkedHashMap<>();
            for (int s = 0; s < states.size(); s++) {
                Map<String, float[]> taps = withDepth ? model.denseBlockTaps(states.get(s), b, sums, marks.get(s))
                        : model.denseBlockTaps(states.get(s), b);
                taps.forEach((k, v) -> {
                    float[] sum = rows.computeIfAbsent(k, x -> new float[v.length]);
                    for (int j = 0; j < v.length; j++) {
                        sum[j] += v[j];
                    }
                });
            }
            BlockMasks masks = masks(ckpt, b, rows);
            for (int s = 0; s < states.size(); s++) {
                HiddenStates in = states.get(s);
                HiddenStates out = model.prunedBlock(in, b, id + "/" + b, () -> masks);
                if (withDepth) {
                    sums.blockStreams(b, in.samples(), in.floats(), out.floats(), in.tokens(), in.hidden());
                }
                states.set(s, out);
            }
        }
        if (withDepth) {
            marks.forEach(m -> m.addTo(sums));
            sums.finishSequences();
        }
    }

    private static BlockMasks masks(Checkpoint ckpt, int block, Map<String, float[]> rows) {
        Map<LayerKind, LayerMask> masks = new EnumMap<>(LayerKind.class);
        for (PrunableLayer l : ckpt.prunableLayers()) {
            if (l.block() == block) {
                masks.put(l.kind(), LayerPruner.wanda(l.name(), ckpt.readFloats(l.weightTensor()), l.outFeatures(),
                        l.inFeatures(), io.layerscope.stats.ActivationNorms.of(rows.get(l.tapKey())), 0.5, SparsityPattern.UNSTRUCTURED));
            }
        }
        return new BlockMasks(block, masks);
    }

    public static void main(String[] args) throws Exception {
        run(args.length > 0 ? Integer.parseInt(args[0]) : 3);
    }
}
