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

    /**
     * 32 blocks' ratios whose mean numpy's pairwise sum rounds otherwise than a loop: the sparsities
     * as OWL's lines compute them in numpy 2.4 (r = (D - min) * (1 / (max - min) * 2 lambda);
     * 1 - (r - np.mean(r) + 1 - s)), printed with float.hex.
     */
    @Test
    void thirtyTwoBlocksAreNumpysBits() {
        double[] d = {3.343642, 10.474337, 9.637746, 4.55069, 6.954351, 6.494911, 8.51593, 9.887234, 2.938596, 2.283475,
            10.357651, 6.327671, 9.622801, 2.021061, 6.453872, 9.2154, 4.287622, 11.452707, 11.014275, 2.3059, 2.254459,
            7.414125, 11.391492, 5.812042, 4.165994, 6.221166, 2.290408, 4.216917, 6.378876, 6.958122, 4.330845, 4.308665};
        String[] numpy = {"0x1.80b29357b3550p-1", "0x1.42c34847ba119p-1", "0x1.4a07770e4fc6ap-1", "0x1.7636abf32b17ap-1",
            "0x1.6156110174b1ep-1", "0x1.6553a4c94265ap-1", "0x1.53c5da70b7645p-1", "0x1.47dcb8c452e4bp-1",
            "0x1.843734cfb173dp-1", "0x1.89e7e2b3f0e41p-1", "0x1.43c6bca059626p-1", "0x1.66c781a0c9eb8p-1",
            "0x1.4a28b217aeefcp-1", "0x1.8c2f5ec4767b6p-1", "0x1.65aee520329f4p-1", "0x1.4db29014caf46p-1",
            "0x1.787f9c4944e3ap-1", "0x1.3a43d9a5be297p-1", "0x1.3e12b73155c8cp-1", "0x1.89b605e0f9b2bp-1",
            "0x1.8a286746786acp-1", "0x1.5d57bf1ad0bc0p-1", "0x1.3acbf6a0f69a2p-1", "0x1.6b420579b8b17p-1",
            "0x1.798e0dbb69b68p-1", "0x1.67b452b735ecap-1", "0x1.89d87847c58d0p-1", "0x1.791cd3316e78ep-1",
            "0x1.6655a69177499p-1", "0x1.614dae774e470p-1", "0x1.781f80c384451p-1", "0x1.7850d220d208ap-1"};
        double[] s = OwlAllocation.sparsities(d, 0.7, 0.08);
        for (int b = 0; b < d.length; b++) {
            assertEquals(Double.parseDouble(numpy[b]), s[b], 0, "block " + b);
        }
    }

    /** np.mean of i * 0.1 + 1 / (i + 1), i < n: a plain loop (n = 7), eight lanes (32), halves first (200). */
    @Test
    void theMeanIsNumpysPairwiseSum() {
        int[] n = {7, 32, 200};
        String[] numpy = {"0x1.573fbd20644f7p-1", "0x1.ad44992107c8cp+0", "0x1.3f572a0594544p+3"};
        for (int c = 0; c < n.length; c++) {
            double[] a = new double[n[c]];
            for (int i = 0; i < a.length; i++) {
                a[i] = i * 0.1 + 1.0 / (i + 1);
            }
            assertEquals(Double.parseDouble(numpy[c]), OwlAllocation.numpyMean(a), 0, "n " + n[c]);
        }
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
