package io.layerscope.plot;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-layer summaries of a LLaMA-shaped sweep for overview tests: 7 kinds per block and lm_head,
 * values from simple formulas (so each kind's line is known and distinct).
 */
final class SweepSummaries {
    static final List<String> KINDS = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    private SweepSummaries() {
    }

    static LayerSummary layer(int block, int kind) {
        String k = KINDS.get(kind);
        String name = "model.layers." + block + (kind < 4 ? ".self_attn." : ".mlp.") + k;
        double act = 1 + 0.25 * block + 0.1 * kind;
        return TestSummaries.of(name, block, k, 64, 64, act, 0.01 * act, 0.7 + 0.02 * kind + 0.001 * block, 0.65, 0.6,
                0.04, 0.001 * (kind + 1) + 0.0005 * block, 0.0002);
    }

    static LayerSummary head() {
        return TestSummaries.of("lm_head", -1, "lm_head", 512, 64, 3.0, 0.05, 0.9, 0.8, 0.8, 0.03, 0.004, 0.001);
    }

    /** {@code blocks} blocks of 7 layers, then lm_head when {@code head}. */
    static List<LayerSummary> sweep(int blocks, boolean head) {
        List<LayerSummary> l = new ArrayList<>();
        for (int b = 0; b < blocks; b++) {
            for (int k = 0; k < KINDS.size(); k++) {
                l.add(layer(b, k));
            }
        }
        if (head) {
            l.add(head());
        }
        return l;
    }

    /**
     * The {@code blocks} rows of {@code blocks} blocks: influence 0.05 + 0.01 b, distance 0.2 + 0.02 b,
     * top |h| 5 * 3^b (spanning decades), massive from block 3 on (top |h| 135 and more).
     */
    static List<BlockSummary> blocks(int blocks) {
        List<BlockSummary> rows = new ArrayList<>();
        for (int b = 0; b < blocks; b++) {
            double top = 5 * Math.pow(3, b);
            rows.add(new BlockSummary(b, 0.05 + 0.01 * b, 0.2 + 0.02 * b, top, b >= 3));
        }
        return rows;
    }
}
