package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class CounterArraysTest {
    @Test
    void anArrayGivenBackComesBackZeroed() {
        int[] used = CounterArrays.take();
        assertEquals(1 << 16, used.length);
        used[0] = 7;
        used[12_345] = -1;
        used[(1 << 16) - 1] = 3;
        CounterArrays.giveBack(used);
        // other tests may take and give back meanwhile: whichever array comes, it is all zeros
        for (int k = 0; k < 3; k++) {
            int[] taken = CounterArrays.take();
            for (int i = 0; i < taken.length; i++) {
                if (taken[i] != 0) {
                    throw new AssertionError("counter " + i + " of a taken array is " + taken[i]);
                }
            }
        }
    }

    @Test
    void onlyCounterArraysAreTakenBack() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CounterArrays.giveBack(new int[100]));
        assertEquals("a counter array has 65536 ints, not 100", e.getMessage());
    }
}
