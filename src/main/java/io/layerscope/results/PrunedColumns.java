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

    /** The pruned rows of {@code column}; it must be one of {@link #columns}. */
    public int rowsOf(int column) {
        for (int k = 0; k < columns.length; k++) {
            if (columns[k] == column) {
                return rows[k];
            }
        }
        throw new IllegalArgumentException("column " + column + " was not counted; counted: " + Arrays.toString(columns));
    }
}
