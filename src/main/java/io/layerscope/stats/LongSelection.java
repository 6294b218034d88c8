package io.layerscope.stats;

import java.util.Arrays;

/**
 * The k-th smallest of distinct longs in expected linear time (quickselect with a median-of-three
 * pivot), falling back to a full sort if the partitions keep coming out lopsided, so the worst
 * case stays O(n log n).
 */
final class LongSelection {
    private static final int INSERTION_SORT_BELOW = 16;

    private LongSelection() {
    }

    /** The {@code k}-th smallest (0-based) of {@code a[0..n)}, reordering that range. */
    static long select(long[] a, int n, int k) {
        if (k < 0 || k >= n) {
            throw new IllegalArgumentException("rank " + k + " outside 0.." + (n - 1));
        }
        int lo = 0;
        int hi = n - 1;
        int partitionsLeft = 2 * (32 - Integer.numberOfLeadingZeros(n)) + 4;
        while (hi - lo >= INSERTION_SORT_BELOW) {
            if (partitionsLeft-- == 0) {
                Arrays.sort(a, lo, hi + 1);
                return a[k];
            }
            long pivot = medianOfThree(a[lo], a[(lo + hi) >>> 1], a[hi]);
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    long t = a[i];
                    a[i++] = a[j];
                    a[j--] = t;
                }
            }
            // now a[lo..j] <= pivot <= a[i..hi], and anything between equals the pivot
            if (k <= j) {
                hi = j;
            } else if (k >= i) {
                lo = i;
            } else {
                return a[k];
            }
        }
        insertionSort(a, lo, hi);
        return a[k];
    }

    private static long medianOfThree(long x, long y, long z) {
        return Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    }

    private static void insertionSort(long[] a, int lo, int hi) {
        for (int i = lo + 1; i <= hi; i++) {
            long v = a[i];
            int j = i - 1;
            while (j >= lo && a[j] > v) {
                a[j + 1] = a[j];
                j--;
            }
            a[j + 1] = v;
        }
    }
}
