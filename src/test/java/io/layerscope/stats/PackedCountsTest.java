package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Counter arrays packed for the wire: the same entries back, in the smaller of the two forms. */
class PackedCountsTest {
    @Test
    void emptyAndAllZeroArraysComeBack() {
        assertArrayEquals(new long[0], PackedCounts.of(new long[0]).unpack());
        PackedCounts zeros = PackedCounts.of(new long[32768]);
        assertEquals(0, zeros.values().length);
        assertArrayEquals(new long[32768], zeros.unpack());
    }

    @Test
    void aFewScatteredCountsTravelAsPlacesAndCounts() {
        long[] counts = new long[32768];
        counts[0] = 1;
        counts[5000] = 7;
        counts[32767] = Long.MAX_VALUE;
        PackedCounts p = PackedCounts.of(counts);
        assertTrue(p.sparse());
        assertArrayEquals(new int[] {0, 5000, 32767}, p.at());
        assertArrayEquals(new long[] {1, 7, Long.MAX_VALUE}, p.values());
        assertArrayEquals(counts, p.unpack());
    }

    @Test
    void aFilledRunTravelsAsItsSpan() {
        // a histogram's shape: the bins of a few exponents filled, zeros either side
        long[] counts = new long[32768];
        for (int i = 14989; i < 17500; i++) {
            counts[i] = i % 13 == 0 ? 0 : i;
        }
        PackedCounts p = PackedCounts.of(counts);
        assertFalse(p.sparse());
        assertEquals(14990, p.offset());   // 14989 is a multiple of 13
        assertEquals(17499 - 14990 + 1, p.values().length);
        assertArrayEquals(counts, p.unpack());
    }

    @Test
    void randomArraysOfEveryDensityComeBack() {
        SplittableRandom random = new SplittableRandom(5);
        for (int n = 0; n < 300; n++) {
            long[] counts = new long[1 + random.nextInt(2000)];
            double density = random.nextDouble();
            for (int i = 0; i < counts.length; i++) {
                if (random.nextDouble() < density) {
                    counts[i] = random.nextLong(1, Long.MAX_VALUE);
                }
            }
            PackedCounts p = PackedCounts.of(counts);
            assertArrayEquals(counts, p.unpack(), "array " + n);
            assertTrue(p.values().length <= counts.length, "array " + n);
        }
    }
}
