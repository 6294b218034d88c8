package io.layerscope.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class LongSelectionTest {

    @Test
    void selectsEveryRankOfRandomAndPatternedArrays() {
        SplittableRandom random = new SplittableRandom(1);
        for (int n : new int[] {1, 2, 15, 16, 17, 100, 1000}) {
            long[][] inputs = {
                random.longs(n).toArray(),
                ascending(n),
                reverse(ascending(n)),
                organPipe(n),
            };
            for (long[] input : inputs) {
                long[] sorted = input.clone();
                Arrays.sort(sorted);
                for (int k = 0; k < n; k += Math.max(1, n / 37)) {
                    long[] work = input.clone();
                    assertEquals(sorted[k], LongSelection.select(work, n, k), "n=" + n + " k=" + k);
                    long[] rest = work.clone();
                    Arrays.sort(rest);
                    assertEquals(Arrays.toString(sorted), Arrays.toString(rest), "select only reorders");
                }
            }
        }
    }

    @Test
    void selectsWithinAPrefix() {
        long[] a = {9, 3, 7, 1, -5, -6};
        assertEquals(7, LongSelection.select(a, 4, 2));
    }

    private static long[] ascending(int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = (long) i << 32 | i;
        }
        return a;
    }

    private static long[] reverse(long[] a) {
        long[] r = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[a.length - 1 - i];
        }
        return r;
    }

    private static long[] organPipe(int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = (long) Math.min(i, n - 1 - i) * n + i;
        }
        return a;
    }
}
