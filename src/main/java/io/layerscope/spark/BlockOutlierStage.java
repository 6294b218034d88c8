package io.layerscope.spark;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.PrunableLayer;
import io.layerscope.prune.BlockOutlierRatios;
import io.layerscope.prune.LayerPruner;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;

/**
 * OWL's outlier ratio of every decoder block from the dense statistics, one task per block (two
 * passes over its seven weights): the blocks table's owl_* columns and, with --allocation owl, the
 * per-block sparsities.
 */
final class BlockOutlierStage {
    private BlockOutlierStage() {
    }

    /**
     * @param blocks      blocks 0..blocks-1, whose four taps are in {@code scalerRows}
     * @param multipliers the thresholds' multipliers of the block mean
     */
    static List<BlockOutlierRatios.Result> run(JavaSparkContext jsc, String modelDir, int blocks,
                                               Map<String, float[]> scalerRows, double[] multipliers) {
        Map<String, float[]> norms = new LinkedHashMap<>();
        scalerRows.forEach((k, v) -> norms.put(k, LayerPruner.activationNorms(v)));
        List<Integer> indices = new ArrayList<>();
        for (int b = 0; b < blocks; b++) {
            indices.add(b);
        }
        jsc.setJobDescription("layerscope: OWL outlier ratios of " + blocks + " blocks");
        List<BlockOutlierRatios.Result> out = new ArrayList<>(jsc.parallelize(indices, Math.max(1, blocks))
                .mapPartitions(new Task(modelDir, norms, multipliers)).collect());
        out.sort(Comparator.comparingInt(BlockOutlierRatios.Result::block));
        return out;
    }

    static final class Task implements FlatMapFunction<Iterator<Integer>, BlockOutlierRatios.Result> {
        private static final long serialVersionUID = 1L;
        private final String modelDir;
        private final Map<String, float[]> actNorms;
        private final double[] multipliers;

        Task(String modelDir, Map<String, float[]> actNorms, double[] multipliers) {
            this.modelDir = modelDir;
            this.actNorms = actNorms;
            this.multipliers = multipliers;
        }

        @Override
        public Iterator<BlockOutlierRatios.Result> call(Iterator<Integer> blocks) {
            SweepHooks.inTask().taskStarts("blocks");
            Checkpoint ckpt = ExecutorResources.checkpoint(modelDir);
            List<BlockOutlierRatios.Result> out = new ArrayList<>();
            blocks.forEachRemaining(b -> {
                List<PrunableLayer> layers = ckpt.prunableLayers().stream().filter(l -> l.block() == b).toList();
                out.add(BlockOutlierRatios.compute(ckpt, b, layers, actNorms, multipliers));
            });
            return out.iterator();
        }
    }
}
