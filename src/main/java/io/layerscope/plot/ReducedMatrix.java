package io.layerscope.plot;


/**
 * A matrix reduced for drawing: cell {@code (r, c)} is the maximum of the source block of rows
 * {@code [r * rowBlock, (r + 1) * rowBlock)} and columns {@code [c * colBlock, (c + 1) * colBlock)}
 * (the last block of each axis may be shorter when the source size is not a multiple of the block).
 * Values are row-major, {@code rows * cols} long; the array is copied in and out, so an instance is
 * immutable.
 *
 * <pre>{@code
 * ReducedMatrix m = new ReducedMatrix(new float[] {1, 2, 3, 4, 5, 6}, 2, 3, 4, 1);
 * m.value(1, 2);   // 6.0, the maximum of source rows 4..7, column 2
 * }</pre>
 *
 * @param values row-major cell values, {@code rows * cols} long
 * @param rows number of cell rows
 * @param cols number of cell columns
 * @param rowBlock source rows per cell row (1 when not reduced)
 * @param colBlock source columns per cell column (1 when not reduced)
 */
public record ReducedMatrix(float[] values, int rows, int cols, int rowBlock, int colBlock) {

    public ReducedMatrix {
        if (rows < 1 || cols < 1 || rowBlock < 1 || colBlock < 1) {
            throw new IllegalArgumentException("reduced matrix: rows " + rows + ", cols " + cols + ", rowBlock "
                    + rowBlock + " and colBlock " + colBlock + " must all be at least 1");
        }
        if (values == null || values.length != (long) rows * cols) {
            throw new IllegalArgumentException("reduced matrix: " + rows + " x " + cols + " cells need "
                    + (long) rows * cols + " values, got " + (values == null ? "none" : values.length));
        }
        values = values.clone();
    }

    /** A copy of the row-major cell values. */
    @Override
    public float[] values() {
        return values.clone();
    }

    /** The value of cell {@code (row, col)}. */
    public float value(int row, int col) {
        return values[row * cols + col];
    }

    /** True when cells stand for blocks of more than one source entry. */
    public boolean isReduced() {
        return rowBlock > 1 || colBlock > 1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReducedMatrix m && rows == m.rows && cols == m.cols && rowBlock == m.rowBlock
                && colBlock == m.colBlock && java.util.Arrays.equals(values, m.values);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(rows, cols, rowBlock, colBlock, java.util.Arrays.hashCode(values));
    }

    @Override
    public String toString() {
        return "ReducedMatrix[" + rows + " x " + cols + " cells of " + rowBlock + " x " + colBlock + "]";
    }
}
