package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.model.Tap;
import org.junit.jupiter.api.Test;

/** Positions marked over several blocks count once per position, per channel. */
class OutlierPositionsTest {
    @Test
    void aPositionMarkedInTwoBlocksCountsOnce() {
        OutlierPositions marks = new OutlierPositions();
        // 70 positions of 3 channels (more than one 64-bit word per channel)
        byte[] block0 = new byte[70 * 3];
        byte[] block1 = new byte[70 * 3];
        block0[0 * 3 + 1] = 1;        // position 0, channel 1
        block1[0 * 3 + 1] = 1;        // the same position again
        block1[69 * 3 + 1] = 1;       // position 69, channel 1
        block1[30 * 3 + 2] = 1;       // position 30, channel 2
        marks.mark(Tap.MLP_ACT, words(block0), block0.length, 3);
        OutlierPositions copy = marks.copy();
        marks.mark(Tap.MLP_ACT, words(block1), block1.length, 3);
        assertArrayEquals(new long[] {0, 2, 1}, marks.positions(Tap.MLP_ACT));
        assertArrayEquals(new long[] {0, 1, 0}, copy.positions(Tap.MLP_ACT), "a copy is independent");
        assertArrayEquals(new long[0], marks.positions(Tap.ATTN_IN));

        DepthSums sums = new DepthSums();
        marks.addTo(sums);
        assertArrayEquals(new long[] {0, 2, 1}, sums.outlierAnyBlock().get(Tap.MLP_ACT));
    }

    @Test
    void aBatchWhosePositionsChangeShapeIsRefused() {
        OutlierPositions marks = new OutlierPositions();
        marks.mark(Tap.ATTN_IN, new int[1], 12, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> marks.mark(Tap.ATTN_IN, new int[1], 12, 3));
        assertEquals("the ATTN_IN positions of one batch changed shape", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> marks.mark(Tap.ATTN_IN, new int[2], 12, 4));
        assertEquals("12 entries take 1 words of 32, not 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> marks.mark(Tap.ATTN_IN, new int[1], 12, 5));
        assertEquals("12 entries are not whole rows of 5", e.getMessage());
    }

    /** Entry k as bit k % 32 of word k / 32, a bit per entry. */
    private static int[] words(byte[] flags) {
        int[] w = new int[(flags.length + 31) / 32];
        for (int k = 0; k < flags.length; k++) {
            if (flags[k] != 0) {
                w[k / 32] += 1 << (k % 32);
            }
        }
        return w;
    }
}
