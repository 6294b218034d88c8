package io.layerscope.stats;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Counts of one quantity over fixed bins ({@link LogBins#STANDARD} for everything layerscope
 * writes): {@code counts[k]} counts {@code edges[k] <= v < edges[k+1]}, with values below the first
 * edge (zeros included) folded into bin 0 and values at or above the last edge into the last
 * bin. {@code underflow} and {@code overflow} say how many were folded in, so
 * {@code sum(counts)} is the number of values. Arrays are copied in and out: the record is
 * immutable. The pictures draw it as it is (plot's histogram panels take this record).
 */
public record Histogram(double[] edges, long[] counts, long underflow, long overflow) implements Serializable {
    private static final long serialVersionUID = 1L;

    public Histogram {
        if (edges == null || counts == null || counts.length == 0 || edges.length != counts.length + 1) {
            throw new IllegalArgumentException("histogram: " + (counts == null ? "no" : counts.length) + " counts need "
                    + (counts == null ? "count + 1" : counts.length + 1) + " edges, got "
                    + (edges == null ? "none" : edges.length) + "; pass the edges including both ends");
        }
        for (int k = 0; k < edges.length; k++) {
            if (!Double.isFinite(edges[k]) || (k > 0 && !(edges[k] > edges[k - 1]))) {
                throw new IllegalArgumentException("histogram: edge " + k + " is " + edges[k]
                        + "; edges must be finite and strictly increasing");
            }
        }
        for (int k = 0; k < counts.length; k++) {
            if (counts[k] < 0) {
                throw new IllegalArgumentException("histogram: count of bin " + k + " is " + counts[k]
                        + "; counts must be non-negative");
            }
        }
        edges = edges.clone();
        counts = counts.clone();
    }

    /** A histogram with nothing folded in from outside its edges. */
    public static Histogram of(double[] edges, long[] counts) {
        return new Histogram(edges, counts, 0, 0);
    }

    @Override
    public double[] edges() {
        return edges.clone();
    }

    @Override
    public long[] counts() {
        return counts.clone();
    }

    /** Number of bins. */
    public int bins() {
        return counts.length;
    }

    /** Left edge of bin {@code k}. */
    public double lower(int k) {
        return edges[k];
    }

    /** Right edge of bin {@code k}. */
    public double upper(int k) {
        return edges[k + 1];
    }

    /** Count of bin {@code k}. */
    public long count(int k) {
        return counts[k];
    }

    /** The number of values counted (the sum of {@link #counts()}). */
    public long total() {
        return Arrays.stream(counts).sum();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Histogram h && Arrays.equals(edges, h.edges) && Arrays.equals(counts, h.counts)
                && underflow == h.underflow && overflow == h.overflow;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(edges) + Arrays.hashCode(counts)) + Long.hashCode(underflow * 31 + overflow);
    }

    @Override
    public String toString() {
        return "Histogram[bins=" + counts.length + ", edges=" + edges[0] + ".." + edges[counts.length]
                + ", counts=" + Arrays.toString(counts) + ", underflow=" + underflow + ", overflow=" + overflow + "]";
    }
}
