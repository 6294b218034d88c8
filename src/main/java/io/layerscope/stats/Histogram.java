package io.layerscope.stats;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Counts of one quantity over fixed bins ({@link LogBins#STANDARD} for everything layerscope
 * writes): {@code counts[k]} counts {@code edges[k] <= v < edges[k+1]}, with values below the first
 * edge (zeros included) folded into bin 0 and values at or above the last edge into the last
 * bin. {@code underflow} and {@code overflow} say how many were folded in, so
 * {@code sum(counts)} is the number of values. Arrays are copied in and out: the record is
 * immutable.
 */
public record Histogram(double[] edges, long[] counts, long underflow, long overflow) implements Serializable {
    private static final long serialVersionUID = 1L;

    public Histogram {
        if (edges.length != counts.length + 1) {
            throw new IllegalArgumentException("a histogram with " + counts.length + " bins needs "
                    + (counts.length + 1) + " edges, got " + edges.length);
        }
        edges = edges.clone();
        counts = counts.clone();
    }

    @Override
    public double[] edges() {
        return edges.clone();
    }

    @Override
    public long[] counts() {
        return counts.clone();
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
