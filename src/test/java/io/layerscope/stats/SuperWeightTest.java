package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SuperWeightTest {
    static final Peak IN = new Peak(9f, 2, 4, 3);
    static final Peak OUT = new Peak(500f, 2, 4, 1);

    @Test
    void aSmallCandidateIsPrunedByMagnitudeButKeptByWandaWhenItsInputIsLarge() {
        // row 1 of down_proj; |W| ranks 0.5 > 0.2 > 0.1 > 0.05 (column 3, the candidate)
        float[] row = {0.1f, -0.5f, 0.2f, -0.05f};
        SuperWeight w = SuperWeight.check(0, IN, OUT, row, new float[] {1, 1, 1, 10000}, 0.5);
        assertEquals(1, w.row());
        assertEquals(3, w.column());
        assertEquals(-0.05f, w.weight());
        assertEquals(4, w.rankInRow());
        assertTrue(w.prunedMagnitudeRow());          // the two smallest |W|: columns 3 and 0
        assertFalse(w.prunedWandaRow());             // metric 0.1, 0.5, 0.2, 5: columns 0 and 2
        assertFalse(w.prunedWanda2of4());
        assertTrue(w.pruned());
    }

    @Test
    void equalMagnitudesRankTheLowerColumnFirst() {
        SuperWeight w = SuperWeight.check(0, IN, OUT, new float[] {0.3f, 0.3f, 0.3f, 0.3f}, null, 0.5);
        assertEquals(4, w.rankInRow());
        assertFalse(w.prunedMagnitudeRow());         // ties prune the lower columns 0 and 1
        assertNull(w.prunedWandaRow());
        assertNull(w.prunedWanda2of4());
        assertFalse(w.pruned());
    }

    @Test
    void spikesOnDifferentTokensMakeNoCandidate() {
        assertNull(SuperWeight.check(0, IN, new Peak(500f, 2, 5, 1), new float[4], null, 0.5));
        assertNull(SuperWeight.check(0, IN, new Peak(500f, 1, 4, 1), new float[4], null, 0.5));
    }
}
