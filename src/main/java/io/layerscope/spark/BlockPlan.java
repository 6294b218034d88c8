package io.layerscope.spark;

import io.layerscope.model.Checkpoint;
import io.layerscope.prune.BlockOutlierRatios;
import io.layerscope.prune.OwlAllocation;
import io.layerscope.results.BlockResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The per-block side of a job: OWL's outlier ratios of the blocks stage one covered (from the dense
 * statistics) and the sparsity of every block under the run's allocation and pattern.
 */
record BlockPlan(List<BlockOutlierRatios.Result> ratios, double[] sparsity, boolean owl) {
    /** The ratios asked of every block: the blocks table's three, then the run's --owl-m. */
    private static final double[] MULTIPLIERS = {3, 5, 7};

    static BlockPlan make(JavaSparkContext jsc, Checkpoint ckpt, int blocks, Map<String, float[]> denseRows,
                          JobOptions.Analysis a) {
        double[] multipliers = Arrays.copyOf(MULTIPLIERS, MULTIPLIERS.length + 1);
        multipliers[MULTIPLIERS.length] = a.allocation().owlM();
        List<BlockOutlierRatios.Result> ratios = BlockOutlierStage.run(jsc, ckpt.dir().toAbsolutePath().toString(), blocks,
                denseRows, multipliers);
        double[] sparsity = new double[ckpt.config().numHiddenLayers()];
        if (a.pattern().structured()) {
            Arrays.fill(sparsity, (double) a.pattern().n() / a.pattern().m());
        } else if (a.allocation().owl()) {
            // the job covered every block (SweepJob.coverage): OWL allocates over the whole model
            double[] d = ratios.stream().mapToDouble(r -> r.percent()[MULTIPLIERS.length]).toArray();
            sparsity = OwlAllocation.sparsities(d, a.sparsity(), a.allocation().lambda());
        } else {
            Arrays.fill(sparsity, a.sparsity());
        }
        return new BlockPlan(ratios, sparsity, a.allocation().owl());
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
        return Optional.of("[" + String.join(", ", s) + "]");
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
