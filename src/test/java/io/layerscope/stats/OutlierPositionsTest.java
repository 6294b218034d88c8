package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /**
     * Stored by Java serialisation (Spark's, beside the states): sparse marks as a Roaring bitmap, a
     * small fraction of their bits, dense ones as they are; both read back mark for mark.
     */
    @Test
    void sparseMarksAreStoredSmallAndBothKindsReadBackTheSame() throws Exception {
        int positions = 512;
        int features = 4096;
        int entries = positions * features;
        java.util.SplittableRandom random = new java.util.SplittableRandom(9);
        // a real model's: a few channels at most positions, and scattered single entries
        int[] sparse = new int[entries / 32];
        for (int p = 0; p < positions; p++) {
            for (int c : new int[] {7, 1500, 4095}) {
                if (random.nextInt(10) > 0) {
                    set(sparse, p * features + c);
                }
            }
        }
        for (int n = 0; n < 200; n++) {
            set(sparse, random.nextInt(entries));
        }
        // a synthetic model's: half of every entry
        int[] dense = new int[entries / 32];
        for (int w = 0; w < dense.length; w++) {
            dense[w] = random.nextInt();
        }
        OutlierPositions marks = new OutlierPositions();
        marks.mark(Tap.ATTN_OUT, sparse, entries, features);
        marks.mark(Tap.MLP_ACT, dense, entries, features);
        OutlierPositions sparseOnly = new OutlierPositions();
        sparseOnly.mark(Tap.ATTN_OUT, sparse, entries, features);

        byte[] stored = bytes(marks);
        byte[] storedSparse = bytes(sparseOnly);
        // raw, each tap is entries / 8 bytes: 256 KiB
        assertTrue(storedSparse.length < entries / 8 / 20, storedSparse.length + " bytes");
        assertTrue(stored.length > entries / 8 && stored.length < entries / 8 + storedSparse.length + 2048,
                stored.length + " bytes");

        OutlierPositions back = read(stored);
        for (Tap tap : new Tap[] {Tap.ATTN_OUT, Tap.MLP_ACT}) {
            assertArrayEquals(marks.positions(tap), back.positions(tap), tap.name());
        }
        assertEquals(0, back.positions(Tap.ATTN_IN).length);
        // every bit, not only the counts: marking what it holds again changes nothing, and the shape is kept
        back.mark(Tap.ATTN_OUT, sparse, entries, features);
        assertArrayEquals(stored, bytes(back));
        assertThrows(IllegalArgumentException.class, () -> back.mark(Tap.ATTN_OUT, new int[1], 32, 4));
        assertArrayEquals(bytes(new OutlierPositions()), bytes(read(bytes(new OutlierPositions()))));
    }

    private static void set(int[] words, int entry) {
        words[entry >>> 5] |= 1 << entry;
    }

    private static byte[] bytes(OutlierPositions p) throws java.io.IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(b)) {
            out.writeObject(p);
        }
        return b.toByteArray();
    }

    private static OutlierPositions read(byte[] bytes) throws Exception {
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes))) {
            return (OutlierPositions) in.readObject();
        }
    }
}
