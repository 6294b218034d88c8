package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.model.Checkpoint;
import io.layerscope.model.DemoModel;
import io.layerscope.model.PrunableLayer;
import io.layerscope.prune.Allocation;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.SparsityPattern;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobChecksTest {
    @TempDir
    Path tmp;

    /**
     * The demo model's attention layers read 128 inputs and its down_proj 344: --prune-m 16 divides
     * the first only. A dense run without --save-pruned builds N:M masks for the layers it analyses
     * alone; a run that prunes (sequential mode, --save-pruned) builds them for every block.
     */
    @Test
    void nOfMIsCheckedOnTheLayersTheRunMasks() {
        Checkpoint ckpt = Checkpoint.open(DemoModel.ensure(tmp));
        JobOptions.Analysis a = new JobOptions.Analysis("q_proj", false, 0.5, PruneMode.DENSE, new SparsityPattern(8, 16),
                Allocation.uniform(), 0.25, 0.06, false, 0);
        List<PrunableLayer> qProj = ckpt.prunableLayers().stream().filter(l -> l.name().endsWith("q_proj")).toList();
        int last = ckpt.config().numHiddenLayers() - 1;
        assertDoesNotThrow(() -> JobChecks.pruning(a, ckpt, last, qProj, false));
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> JobChecks.pruning(a, ckpt, last, qProj, true));
        assertEquals("--prune-m 16 does not divide the in_features 344 of model.layers.0.mlp.down_proj; N:M masks need"
                + " whole groups of M input columns (use an M that divides 344)", e.getMessage());
        List<PrunableLayer> all = ckpt.prunableLayers();
        assertThrows(LayerscopeException.class, () -> JobChecks.pruning(a, ckpt, last, all, false));
    }
}
