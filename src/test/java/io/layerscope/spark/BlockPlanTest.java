package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.prune.BlockOutlierRatios;
import io.layerscope.prune.OwlAllocation;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BlockPlanTest {
    private static BlockPlan owl(double... d) {
        List<BlockOutlierRatios.Result> ratios = new java.util.ArrayList<>();
        for (int b = 0; b < d.length; b++) {
            ratios.add(new BlockOutlierRatios.Result(b, new double[] {9, 9, 9, d[b]}));   // M 3, 5, 7, then the run's
        }
        return new BlockPlan(ratios, OwlAllocation.sparsities(d, 0.5, 0.08), true, null);
    }

    /** OWL's (D - min D) / (max D - min D) is 0/0 when every block has the same D: the line says why nothing moved. */
    @Test
    void theAllocationLineSaysWhenEveryBlockHasTheSameOutlierRatio() {
        assertEquals(Optional.of("[0.5000, 0.5000, 0.5000] (every block's outlier ratio is 0.0000%: OWL has nothing to"
                + " spread, so every block is at --sparsity)"), owl(0, 0, 0).allocation());
        // D = 1, 2, 3: D' = 0, 0.08, 0.16 around their mean 0.08, so sparsities 0.58, 0.5, 0.42
        assertEquals(Optional.of("[0.5800, 0.5000, 0.4200]"), owl(1, 2, 3).allocation());
        assertEquals(Optional.empty(), new BlockPlan(List.of(), new double[] {0.5}, false, null).allocation());
    }
}
