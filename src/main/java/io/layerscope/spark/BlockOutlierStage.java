package io.layerscope.spark;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.PrunableLayer;
import io.layerscope.prune.BlockOutlierRatios;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;

/**
 * OWL's outlier ratio of every decoder block from the dense statistics, one task per block: the
 * blocks table's owl_* columns and, with --allocation owl, the per-block sparsities. Either both
 * passes over the block's seven weights ({@link #run}), or only the first ({@link #thresholds}) when
 * the per-layer stage, which reads every weight anyway, counts the entries above the thresholds.
 */
final class BlockOutlierStage {
    private BlockOutlierStage() {
    }

    /** What a task computes of one block, from its layers and their activation norms. */
    private interface PerBlock<T> extends Serializable {
        T of(Checkpoint ckpt, int block, List<PrunableLayer> layers, Map<String, float[]> actNorms);
    }

    /** A block's float32 metric mean. */
    private record Mean(int block, float mean) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * @param blocks      blocks 0..blocks-1, whose four taps are in {@code scalerRows}
     * @param multipliers the thresholds' multipliers of the block mean
     */
    static List<BlockOutlierRatios.Result> run(JavaSparkContext jsc, String modelDir, int blocks,
                                               Map<String, float[]> scalerRows, double[] multipliers) {
        jsc.setJobDescription("layerscope: OWL outlier ratios of " + blocks + " blocks");
        List<BlockOutlierRatios.Result> out = new ArrayList<>(perBlock(jsc, modelDir, blocks, scalerRows,
                (ckpt, b, layers, norms) -> BlockOutlierRatios.compute(ckpt, b, layers, norms, multipliers)));
        out.sort(Comparator.comparingInt(BlockOutlierRatios.Result::block));
        return out;
    }

    /**
     * The first pass alone: per block 0..blocks-1, the thresholds (the block's metric mean times each
     * multiplier) that {@link BlockOutlierRatios#countAbove(float[], int, int, float[], float[], long[])}
     * counts against.
     */
    static float[][] thresholds(JavaSparkContext jsc, String modelDir, int blocks, Map<String, float[]> scalerRows,
                                double[] multipliers) {
        jsc.setJobDescription("layerscope: OWL metric means of " + blocks + " blocks");
        float[][] out = new float[blocks][];
        perBlock(jsc, modelDir, blocks, scalerRows,
                (ckpt, b, layers, norms) -> new Mean(b, BlockOutlierRatios.mean(ckpt, layers, norms)))
                .forEach(m -> out[m.block()] = BlockOutlierRatios.thresholds(m.mean(), multipliers));
        return out;
    }

    private static <T> List<T> perBlock(JavaSparkContext jsc, String modelDir, int blocks, Map<String, float[]> scalerRows,
                                        PerBlock<T> what) {
        Map<String, float[]> norms = new LinkedHashMap<>();
        scalerRows.forEach((k, v) -> norms.put(k, io.layerscope.stats.ActivationNorms.of(v)));
        List<Integer> indices = new ArrayList<>();
        for (int b = 0; b < blocks; b++) {
            indices.add(b);
        }
        return StageTwoSlots.javaTasks(jsc.parallelize(indices, Math.max(1, blocks)), jsc.getConf())
                .mapPartitions(new Task<>(modelDir, norms, what)).collect();
    }

    static final class Task<T> implements FlatMapFunction<Iterator<Integer>, T> {
        private static final long serialVersionUID = 1L;
        private final String modelDir;
        private final Map<String, float[]> actNorms;
        private final PerBlock<T> what;

        Task(String modelDir, Map<String, float[]> actNorms, PerBlock<T> what) {
            this.modelDir = modelDir;
            this.actNorms = actNorms;
            this.what = what;
        }

        @Override
        public Iterator<T> call(Iterator<Integer> blocks) {
            return HeapExhaustion.guard(() -> "OWL's per-block statistics", () -> perBlock(blocks));
        }

        private Iterator<T> perBlock(Iterator<Integer> blocks) {
            SweepHooks.inTask().taskStarts("blocks");
            Checkpoint ckpt = ExecutorResources.checkpoint(modelDir);
            List<T> out = new ArrayList<>();
            blocks.forEachRemaining(b -> {
                List<PrunableLayer> layers = ckpt.prunableLayers().stream().filter(l -> l.block() == b).toList();
                out.add(what.of(ckpt, b, layers, actNorms));
            });
            return out.iterator();
        }
    }
}
