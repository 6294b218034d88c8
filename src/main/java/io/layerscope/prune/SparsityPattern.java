package io.layerscope.prune;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.layerscope.stats.RowPruner;
import java.io.Serializable;

/**
 * How a pruning mask is shaped within one output row: unstructured (the floor(in * s) entries with
 * the smallest score, Wanda's default) or N:M (in every group of M consecutive input columns, the N
 * smallest; the sparsity is then N/M whatever --sparsity says). Ties go to the lower column in both.
 *
 * @param n pruned entries per group, 0 for unstructured
 * @param m group size, 0 for unstructured
 */
public record SparsityPattern(int n, int m) implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final SparsityPattern UNSTRUCTURED = new SparsityPattern(0, 0);

    public SparsityPattern {
        if (!(n == 0 && m == 0) && !(n > 0 && n < m)) {
            throw new IllegalArgumentException("an N:M pattern needs 0 < N < M, got " + n + ":" + m);
        }
    }

    /** The inverse of {@link #label()}, as run.json is read back. */
    @JsonCreator
    public static SparsityPattern parse(String label) {
        if (label.equals("unstructured")) {
            return UNSTRUCTURED;
        }
        String[] nm = label.split(":");
        if (nm.length != 2) {
            throw new IllegalArgumentException("not a sparsity pattern: " + label);
        }
        return new SparsityPattern(Integer.parseInt(nm[0]), Integer.parseInt(nm[1]));
    }

    public boolean structured() {
        return m > 0;
    }

    /** {@code unstructured} or {@code N:M}, as run.json and the report show it. */
    @JsonValue
    public String label() {
        return structured() ? n + ":" + m : "unstructured";
    }

    /**
     * One row's mask from its scores (non-negative, not NaN): 1 where pruned. {@code pruner} is the
     * row's unstructured pruner at the layer's sparsity (unused for N:M).
     */
    public void mask(float[] scores, RowPruner pruner, byte[] pruned) {
        if (structured()) {
            RowPruner.nOfM(scores, n, m, pruned);
        } else {
            pruner.unstructured(scores, pruned);
        }
    }
}
