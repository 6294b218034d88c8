package io.layerscope.results;

import java.io.Serializable;
import java.util.Arrays;

/**
 * For some input columns of a layer (its outlier features'), the rows whose Wanda row mask prunes
 * the weight in that column, as the layer's statistics counted them.
 *
 * @param columns input features, each once
 * @param rows    per column, in the same order, its pruned rows
 */
public record PrunedColumns(int[] columns, int[] rows) implements Serializable {
    private static final long serialVersionUID = 1L;

    public PrunedColumns {
        if (columns.length != rows.length) {
            throw new IllegalArgumentException(columns.length + " columns but " + rows.length + " counts");
        }
        columns = columns.clone();
        rows = rows.clone();
    }

    /** The pruned rows of each of {@code wanted}, in its order; each must be one of {@link #columns}. */
    public int[] rowsOf(int[] wanted) {
        int size = 0;
        for (int c : columns) {
            size = Math.max(size, c + 1);
        }
        int[] at = new int[size];   // column -> its place + 1 (0: not counted); thousands of columns, asked of thousands
        for (int k = 0; k < columns.length; k++) {
            at[columns[k]] = k + 1;
        }
        int[] out = new int[wanted.length];
        for (int k = 0; k < wanted.length; k++) {
            int place = wanted[k] >= 0 && wanted[k] < size ? at[wanted[k]] : 0;
            if (place == 0) {
                throw new IllegalArgumentException("column " + wanted[k] + " was not counted; counted: "
                        + Arrays.toString(columns));
            }
            out[k] = rows[place - 1];
        }
        return out;
    }
}
