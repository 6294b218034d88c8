package io.layerscope.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link LayerMask.Builder}'s packing against the bytes it was given, entry by entry. */
class LayerMaskTest {
    /** Any non-zero byte means pruned, the bytes a sign trick could get wrong included. */
    private static final byte[] PRUNED = {1, 2, 127, -1, -128};

    /**
     * Rows that start mid-word, span whole words and end mid-word (and rows inside one word), set
     * from the last to the first so that rows sharing a word are merged in either order.
     */
    @ParameterizedTest
    @CsvSource({"3, 37", "5, 64", "4, 130", "9, 1", "7, 100", "2, 200"})
    void everyEntryIsPrunedExactlyWhereItsByteIsNotZero(int out, int in) {
        SplittableRandom rnd = new SplittableRandom(out * 1000L + in);
        byte[][] rows = new byte[out][in];
        long expectedCount = 0;
        for (byte[] row : rows) {
            for (int j = 0; j < in; j++) {
                row[j] = rnd.nextBoolean() ? 0 : PRUNED[rnd.nextInt(PRUNED.length)];
                expectedCount += row[j] != 0 ? 1 : 0;
            }
        }
        LayerMask.Builder b = new LayerMask.Builder(out, in);
        for (int i = out - 1; i >= 0; i--) {
            b.row(i, rows[i]);
        }
        LayerMask mask = b.build();
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                assertEquals(rows[i][j] != 0, mask.pruned(i, j), "row " + i + " col " + j);
            }
        }
        assertEquals(expectedCount, mask.prunedCount());
    }
}
