package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** --sparsity and an N:M pattern: N/M is the sparsity, and a --sparsity that says otherwise is refused. */
class AnalysisOptionsSparsityTest {
    private static AnalysisOptions options(Double sparsity, Integer n, Integer m) {
        AnalysisOptions a = new AnalysisOptions();
        a.sparsity = sparsity;
        a.pruneN = n;
        a.pruneM = m;
        return a;
    }

    @Test
    void nOfMSetsTheSparsityAndRefusesAnotherOne() {
        assertEquals(0.5, options(null, null, null).sparsity());
        assertEquals(0.7, options(0.7, null, null).sparsity());
        assertEquals(0.25, options(null, 1, 4).sparsity());
        assertEquals(0.5, options(0.5, 2, 4).sparsity());
        assertEquals(0.5, options(0.5, 4, 8).sparsity());
        assertEquals("--sparsity 0.7 disagrees with --prune-n 2 --prune-m 4, which prunes 2/4 = 0.5 of every layer: leave"
                + " --sparsity out, or give --sparsity 0.5", org.junit.jupiter.api.Assertions.assertThrows(
                        io.layerscope.LayerscopeException.class, () -> options(0.7, 2, 4).sparsity()).getMessage());
    }
}
