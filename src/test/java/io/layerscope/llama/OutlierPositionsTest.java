package io.layerscope.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/** The bit per (position, feature) and the per-feature counts, against counts worked out by hand. */
class OutlierPositionsTest {
    @Test
    void countsEachMarkedEntryOnceUnderItsFeature() {
        // 30 positions x 5 features: 150 bits over three words, entries on both sides of word boundaries
        OutlierPositions p = new OutlierPositions(30, 5);
        p.set(0);        // position 0, feature 0
        p.set(0);        // the same entry again (another block): still one position
        p.set(63);       // position 12, feature 3
        p.set(64);       // position 12, feature 4
        p.set(128);      // position 25, feature 3
        p.set(149);      // position 29, feature 4
        p.set(5);        // position 1, feature 0
        assertArrayEquals(new long[] {2, 0, 0, 2, 2}, p.counts());
    }

    @Test
    void nothingMarkedCountsZeroEverywhere() {
        assertArrayEquals(new long[7], new OutlierPositions(3, 7).counts());
    }
}
