package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.LayerKind;
import io.layerscope.model.PrunableLayer;
import io.layerscope.model.SyntheticLlama;
import io.layerscope.prune.BlockMasks;
import io.layerscope.prune.LayerMask;
import io.layerscope.prune.LayerPruner;
import io.layerscope.prune.SparsityPattern;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoundMasksTest {
    @Test
    void onlyTheLatestRoundsAreKept() {
        LayerMask m = new LayerMask.Builder(1, 3).build();
        String[] rounds = {UUID.randomUUID().toString(), UUID.randomUUID().toString(), UUID.randomUUID().toString()};
        for (String r : rounds) {
            RoundMasks.put(r, LayerKind.UP_PROJ, m);
        }
        assertNull(RoundMasks.get(rounds[0], LayerKind.UP_PROJ));
        assertSame(m, RoundMasks.get(rounds[1], LayerKind.UP_PROJ));
        assertSame(m, RoundMasks.get(rounds[2], LayerKind.UP_PROJ));
        assertNull(RoundMasks.get(rounds[2], LayerKind.DOWN_PROJ));
    }

    /** The pruned pass takes the mask a layer task of its JVM made for the round, and makes the others. */
    @Test
    void theBlocksMasksAreThoseTheLayerTasksMadeElseMadeAgain(@TempDir Path tmp) {
        Checkpoint ckpt = Checkpoint.open(SyntheticLlama.builder().hidden(32).intermediate(48).layers(2).heads(4)
                .kvHeads(2).vocab(100).write(tmp.resolve("m")));
        Map<String, float[]> rows = new LinkedHashMap<>();
        for (PrunableLayer l : ckpt.prunableLayers()) {
            float[] r = new float[l.inFeatures()];
            for (int j = 0; j < r.length; j++) {
                r[j] = 1f + j % 5;
            }
            rows.putIfAbsent(l.tapKey(), r);
        }
        SequentialStage.Round round = new SequentialStage.Round(UUID.randomUUID().toString(), 1, 0.5,
                SparsityPattern.UNSTRUCTURED, rows, rows);
        PrunableLayer gate = ckpt.layer("model.layers.1.mlp.gate_proj");
        // a planted mask shows which one was taken (a layer task's is equal to what would be made)
        LayerMask planted = new LayerMask.Builder(gate.outFeatures(), gate.inFeatures()).build();
        RoundMasks.put(round.id(), LayerKind.GATE_PROJ, planted);

        BlockMasks masks = SequentialStage.blockMasks(ckpt, round);
        assertEquals(1, masks.block());
        assertSame(planted, masks.mask(LayerKind.GATE_PROJ));
        PrunableLayer down = ckpt.layer("model.layers.1.mlp.down_proj");
        LayerMask made = LayerPruner.wanda(down.name(), ckpt.readFloats(down.weightTensor()), down.outFeatures(),
                down.inFeatures(), io.layerscope.stats.ActivationNorms.of(rows.get(down.tapKey())), 0.5, SparsityPattern.UNSTRUCTURED);
        assertEquals(1.0, made.agreement(masks.mask(LayerKind.DOWN_PROJ)));
        assertEquals(7, masks.masks().size());
    }
}
