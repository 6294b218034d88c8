package io.layerscope.stats;

import java.util.Arrays;

/**
 * The fixed, log-spaced histogram bins of every layerscope histogram. Because the bins never
 * depend on the data, histograms of different layers, quantities and runs can be compared and
 * added bin by bin.
 *
 * <p>{@link #STANDARD}: 128 bins, 8 per decade, from 1e-10 to 1e6. Bin {@code k} holds the values
 * {@code v} with {@code edges[k] <= v < edges[k+1]}, {@code edges[k] = 10^(-10 + k/8)}. That range
 * covers bf16 weights, activation norms (which grow with the sequence length: scaler_row sums
 * over all tokens of a sample) and their product. Values below {@code edges[0]}, exact zeros
 * included, are counted in bin 0 and values at or above the last edge in the last bin;
 * {@link Histogram} says how many were folded in ({@code underflow}, {@code overflow}), so the
 * counts always add up to the number of values.
 *
 * <p>Decade edges (1e-10, ..., 1, 10, ..., 1e6) are the exact doubles of those literals; the
 * others come from {@link StrictMath#pow}, so edges are identical on every JVM.
 *
 * <pre>{@code
 * int bin = LogBins.STANDARD.binOf(0.5);   // 77: 10^-0.375 <= 0.5 < 10^-0.25
 * }</pre>
 */
public final class LogBins {
    /** The bins of every histogram layerscope writes. */
    public static final LogBins STANDARD = new LogBins(-10, 6, 8);

    /** {@link #locateBucket} result for a bucket whose values fall into more than one bin. */
    static final int SPANS_EDGE = Integer.MIN_VALUE;

    private static final int BUCKETS = 1 << 16;
    private static final int BUCKET_VALUES = 1 << 16;

    private final double[] edges;
    /** For each top-16-bit pattern of a float: {@link #locate} of all its values, or SPANS_EDGE. */
    private final int[] bucketLocation;
    /**
     * For each bucket that one edge splits: {@link #locate} of its lowest value, and the lowest 16
     * bits from which its values lie in the next bin; unsplit buckets: -1 and 0x10000 (never).
     */
    private final int[] splitFirst;
    private final int[] splitLowBits;

    private LogBins(int firstDecade, int lastDecade, int binsPerDecade) {
        int bins = (lastDecade - firstDecade) * binsPerDecade;
        edges = new double[bins + 1];
        for (int k = 0; k <= bins; k++) {
            edges[k] = k % binsPerDecade == 0
                    ? exactPowerOfTen(firstDecade + k / binsPerDecade)
                    : StrictMath.pow(10, firstDecade + (double) k / binsPerDecade);
        }
        bucketLocation = new int[BUCKETS];
        for (int bucket = 0; bucket < BUCKETS; bucket++) {
            float low = Float.intBitsToFloat(bucket << 16);
            float high = Float.intBitsToFloat(bucket << 16 | 0xffff);
            boolean nonNegativeFinite = low >= 0 && !Float.isInfinite(low) && !Float.isNaN(high);
            int first = nonNegativeFinite ? locate(low) : SPANS_EDGE;
            bucketLocation[bucket] = nonNegativeFinite && first == locate(high) ? first : SPANS_EDGE;
        }
        splitFirst = new int[BUCKETS];
        splitLowBits = new int[BUCKETS];
        Arrays.fill(splitFirst, -1);
        Arrays.fill(splitLowBits, BUCKET_VALUES);
        for (int bucket = 0; bucket < BUCKETS; bucket++) {
            float low = Float.intBitsToFloat(bucket << 16);
            float high = Float.intBitsToFloat(bucket << 16 | 0xffff);
            if (bucketLocation[bucket] == SPANS_EDGE && low >= 0 && !Float.isInfinite(high) && !Float.isNaN(high)
                    && locate(high) == locate(low) + 1) {
                splitFirst[bucket] = locate(low);
                splitLowBits[bucket] = firstInNextBin(bucket, locate(low));
            }
        }
    }

    /** The lowest 16 bits of bucket's values from which locate gives more than {@code first} (locate is monotone). */
    private int firstInNextBin(int bucket, int first) {
        int lo = 0;
        int hi = BUCKET_VALUES - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (locate(Float.intBitsToFloat(bucket << 16 | mid)) > first) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /** 10^e as the double nearest to it: 10^|e| is exact up to 1e22, and one division rounds once. */
    private static double exactPowerOfTen(int e) {
        double p = 1;
        for (int i = 0; i < Math.abs(e); i++) {
            p *= 10;
        }
        return e >= 0 ? p : 1 / p;
    }

    public int bins() {
        return edges.length - 1;
    }

    /** A copy of the {@code bins() + 1} edges, ascending. */
    public double[] edges() {
        return edges.clone();
    }

    /** The bin that counts {@code v}, with out-of-range values folded into the first or last bin. */
    public int binOf(double v) {
        int at = locate(v);
        return Math.max(0, Math.min(bins() - 1, at));
    }

    /**
     * The bin {@code k} with {@code edges[k] <= v < edges[k+1]}; -1 below the first edge,
     * {@code bins()} at or above the last one.
     *
     * @throws IllegalArgumentException for NaN
     */
    int locate(double v) {
        if (Double.isNaN(v)) {
            throw new IllegalArgumentException("NaN has no histogram bin");
        }
        if (v < edges[0]) {
            return -1;
        }
        int at = Arrays.binarySearch(edges, v);
        // exact hit on an edge: that edge opens its bin; otherwise the bin is insertion point - 1
        return at >= 0 ? at : -at - 2;
    }

    /**
     * {@link #locate} shared by every float whose raw bits start with {@code bucket} (the top 16
     * bits), or {@link #SPANS_EDGE} when an edge falls inside the bucket (or it is not a
     * non-negative finite float), so the caller must locate those values one by one.
     */
    int locateBucket(int bucket) {
        return bucketLocation[bucket];
    }

    /**
     * {@link #locate} of the float with raw bits {@code bits}, by table lookup where one edge splits
     * its bucket (every non-negative finite float: no search per value), by search otherwise.
     */
    int locateBits(int bits) {
        int bucket = bits >>> 16;
        int first = splitFirst[bucket];
        if (first >= 0) {
            return first + ((bits & 0xffff) >= splitLowBits[bucket] ? 1 : 0);
        }
        int location = bucketLocation[bucket];
        return location != SPANS_EDGE ? location : locate(Float.intBitsToFloat(bits));
    }
}
