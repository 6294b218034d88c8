package io.layerscope.plot;

import io.layerscope.LayerscopeException;
import java.util.Arrays;

/**
 * A histogram to draw: {@code counts[k]} values fell in {@code [edges[k], edges[k + 1])}. Edges are
 * strictly increasing and one more than the counts; both arrays are copied in and out.
 *
 * @param edges bin edges, {@code counts.length + 1} of them, strictly increasing
 * @param counts non-negative count per bin
 */
public record HistogramBins(double[] edges, long[] counts) {

    public HistogramBins {
        if (edges == null || counts == null || counts.length == 0 || edges.length != counts.length + 1) {
            throw new LayerscopeException("histogram: " + (counts == null ? "no" : counts.length) + " counts need "
                    + (counts == null ? "count + 1" : counts.length + 1) + " edges, got "
                    + (edges == null ? "none" : edges.length) + "; pass the edges including both ends");
        }
        for (int k = 0; k < edges.length; k++) {
            if (!Double.isFinite(edges[k]) || (k > 0 && !(edges[k] > edges[k - 1]))) {
                throw new LayerscopeException("histogram: edge " + k + " is " + edges[k]
                        + "; edges must be finite and strictly increasing");
            }
        }
        for (int k = 0; k < counts.length; k++) {
            if (counts[k] < 0) {
                throw new LayerscopeException("histogram: count of bin " + k + " is " + counts[k] + "; counts must be non-negative");
            }
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

    @Override
    public boolean equals(Object o) {
        return o instanceof HistogramBins h && Arrays.equals(edges, h.edges) && Arrays.equals(counts, h.counts);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(edges) + Arrays.hashCode(counts);
    }

    @Override
    public String toString() {
        return "HistogramBins[" + counts.length + " bins over [" + edges[0] + ", " + edges[edges.length - 1] + ")]";
    }
}
