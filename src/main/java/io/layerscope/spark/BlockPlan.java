package io.layerscope.spark;

import io.layerscope.model.Checkpoint;
import io.layerscope.prune.BlockOutlierRatios;
import io.layerscope.model.PrunableLayer;
import io.layerscope.prune.OwlAllocation;
import io.layerscope.results.LayerResult;
import io.layerscope.results.BlockResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The per-block side of a job: OWL's outlier ratios of the blocks stage one covered (from the dense
 * statistics) and the sparsity of every block under the run's allocation and pattern.
 *
 * <p>The ratios take two passes over each block's weights: the metric's mean, then the entries above
 * the mean's multiples. Only OWL's allocation needs them before the per-layer stage; otherwise they
 * are only reported, and when that stage reads every weight of the blocks anyway it counts the
 * entries above the thresholds as it goes ({@link #thresholds} non-null, {@link #ratios} empty until
 * {@link #counted}): the same counts, and one pass over the weights fewer.
 */
record BlockPlan(List<BlockOutlierRatios.Result> ratios, double[] sparsity, boolean owl, float[][] thresholds) {
    /** The ratios asked of every block: the blocks table's three, then the run's --owl-m. */
    private static final double[] MULTIPLIERS = {3, 5, 7};

    /**
     * @param layerStageReadsAll the per-layer stage that follows reads every prunable layer of blocks
     *                           0..blocks-1 (so it may count the entries above the thresholds)
     */
    static BlockPlan make(JavaSparkContext jsc, Checkpoint ckpt, int blocks, Map<String, float[]> denseRows,
                          JobOptions.Analysis a, boolean layerStageReadsAll) {
        double[] multipliers = Arrays.copyOf(MULTIPLIERS, MULTIPLIERS.length + 1);
        multipliers[MULTIPLIERS.length] = a.allocation().owlM();
        String dir = ckpt.dir().toAbsolutePath().toString();
        double[] sparsity = new double[ckpt.config().numHiddenLayers()];
        if (a.pattern().structured()) {
            Arrays.fill(sparsity, (double) a.pattern().n() / a.pattern().m());
        } else if (!a.allocation().owl()) {
            Arrays.fill(sparsity, a.sparsity());
        }
        if (layerStageReadsAll && !a.allocation().owl()) {
            return new BlockPlan(List.of(), sparsity, false,
                    BlockOutlierStage.thresholds(jsc, dir, blocks, denseRows, multipliers));
        }
        List<BlockOutlierRatios.Result> ratios = BlockOutlierStage.run(jsc, dir, blocks, denseRows, multipliers);
        if (!a.pattern().structured() && a.allocation().owl()) {
            // the job covered every block (SweepJob.coverage): OWL allocates over the whole model
            double[] d = ratios.stream().mapToDouble(r -> r.percent()[MULTIPLIERS.length]).toArray();
            sparsity = OwlAllocation.sparsities(d, a.sparsity(), a.allocation().lambda());
        }
        return new BlockPlan(ratios, sparsity, a.allocation().owl(), null);
    }

    /** Whether every prunable layer of blocks 0..blocks-1 is among {@code layers}. */
    static boolean coversBlocks(Checkpoint ckpt, int blocks, List<PrunableLayer> layers) {
        Set<String> names = new HashSet<>();
        layers.forEach(l -> names.add(l.name()));
        return ckpt.prunableLayers().stream().filter(l -> l.block() >= 0 && l.block() < blocks)
                .allMatch(l -> names.contains(l.name()));
    }

    /**
     * The plan with its ratios, when the per-layer stage counted them: each block's counts summed over
     * its layers' {@code results} (whole numbers: any order gives the same).
     *
     * @throws IllegalStateException if a block's layer has no counts
     */
    BlockPlan counted(Checkpoint ckpt, List<LayerResult> results) {
        if (thresholds == null) {
            return this;
        }
        Map<String, long[]> byLayer = new HashMap<>();
        results.forEach(r -> byLayer.put(r.layer().name(), r.aboveBlockThresholds()));
        List<BlockOutlierRatios.Result> out = new ArrayList<>();
        for (int b = 0; b < thresholds.length; b++) {
            int block = b;
            List<PrunableLayer> layers = ckpt.prunableLayers().stream().filter(l -> l.block() == block).toList();
            long[] above = new long[thresholds[b].length];
            for (PrunableLayer l : layers) {
                long[] c = byLayer.get(l.name());
                if (c == null) {
                    throw new IllegalStateException("the per-layer stage returned no OWL counts for " + l.name());
                }
                for (int m = 0; m < above.length; m++) {
                    above[m] += c[m];
                }
            }
            out.add(BlockOutlierRatios.result(b, above, BlockOutlierRatios.entries(layers)));
        }
        return new BlockPlan(out, sparsity, owl, null);
    }

    /** The OWL sparsities as a printable list, when the allocation is OWL's. */
    Optional<String> allocation() {
        if (!owl) {
            return Optional.empty();
        }
        List<String> s = new ArrayList<>();
        for (double v : sparsity) {
            s.add(String.format(java.util.Locale.ROOT, "%.4f", v));
        }
        String told = "[" + String.join(", ", s) + "]";
        double[] d = ratios.stream().mapToDouble(r -> r.percent()[MULTIPLIERS.length]).distinct().toArray();
        if (d.length == 1) {
            // OWL's (D - min D) / (max D - min D) is 0/0 here: its script would prune with NaN sparsities
            told += String.format(java.util.Locale.ROOT, " (every block's outlier ratio is %.4f%%: OWL has nothing to"
                    + " spread, so every block is at --sparsity)", d[0]);
        }
        return Optional.of(told);
    }

    /** The blocks table's rows; {@code actual} holds the sequential sparsities of blocks 0.. (null in dense mode). */
    List<BlockResult> rows(double[] actual) {
        List<BlockResult> rows = new ArrayList<>();
        for (BlockOutlierRatios.Result r : ratios) {
            int b = r.block();
            double[] p = r.percent();
            Double seq = actual != null && b < actual.length ? actual[b] : null;
            rows.add(new BlockResult(b, p[0], p[1], p[2], p[3], sparsity[b], seq));
        }
        return rows;
    }
}
