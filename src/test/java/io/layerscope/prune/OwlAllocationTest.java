package io.layerscope.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import org.junit.jupiter.api.Test;

class OwlAllocationTest {
    @Test
    void threeBlocksByHand() {
        // D = 2, 5, 8 %: D' = (D - 2) / 6 * 0.16 = 0, 0.08, 0.16; mean 0.08; density = D' - 0.08 + 0.5
        double[] s = OwlAllocation.sparsities(new double[] {2, 5, 8}, 0.5, 0.08);
        assertArrayEquals(new double[] {0.58, 0.50, 0.42}, s, 1e-12);
        assertEquals(0.5, (s[0] + s[1] + s[2]) / 3, 1e-12);
    }

    @Test
    void unevenRatiosKeepTheMeanAndTheSpread() {
        // D = 1, 1, 4 %: D' = 0, 0, 0.2 (lambda 0.1); mean 0.2/3; sparsity = 0.7 + 0.2/3 - D'
        double[] s = OwlAllocation.sparsities(new double[] {1, 1, 4}, 0.7, 0.1);
        assertArrayEquals(new double[] {0.7 + 0.2 / 3, 0.7 + 0.2 / 3, 0.5 + 0.2 / 3}, s, 1e-12);
    }

    @Test
    void equalRatiosGiveTheTargetEverywhere() {
        assertArrayEquals(new double[] {0.6, 0.6}, OwlAllocation.sparsities(new double[] {3, 3}, 0.6, 0.08), 0);
    }

    @Test
    void aSparsityOutsideZeroToOneIsRefused() {
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> OwlAllocation.sparsities(new double[] {0, 10}, 0.95, 0.08));
        assertEquals("OWL gives block 0 a sparsity of 1.03 with --sparsity 0.95 and --owl-lambda 0.08; every block"
                + " needs 0 < sparsity < 1: use a smaller --owl-lambda or a --sparsity further from 0 and 1",
                e.getMessage().replace("1.0299999999999998", "1.03"));
    }
}
