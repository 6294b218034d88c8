package io.layerscope.plot;

import io.layerscope.stats.LayerByProducts;

/**
 * Reduces an {@code [out, in]} weight to at most {@code maxRows x maxCols} cells (512 x 512 by
 * default) by block maximum, so a heatmap never draws more than about 262 thousand cells whatever the
 * layer size. Stage two takes the cells in its statistics' passes ({@link LayerByProducts}); the
 * plain loops here take the same cells for a picture drawn apart. The tests hold these loops to a
 * libtorch reduction of the same cells (TorchBlockMaxReduction, under src/test).
 *
 * <p>Block sizes are {@code rowBlock = ceil(out / maxRows)} and {@code colBlock = ceil(in / maxCols)},
 * giving {@code ceil(out / rowBlock) x ceil(in / colBlock)} cells; the last block along an axis may be
 * shorter. NaN propagates (the block shows NaN).
 *
 * <p>A layer's two heatmaps ({@link #layerHeatmaps}) need only one pass over the weight: since the
 * activation norm is constant down a column and non-negative, the block maximum of
 * {@code |W[i, j]| * a[j]} equals {@code a[j] * max_i |W[i, j]|} exactly (rounding is monotonic).
 */
public final class BlockMaxReduction {
    /** Default largest number of cells along each axis. */
    public static final int DEFAULT_MAX_CELLS = 512;

    private final int maxRows;
    private final int maxCols;

    /** Reduces to at most 512 x 512 cells. */
    public BlockMaxReduction() {
        this(DEFAULT_MAX_CELLS, DEFAULT_MAX_CELLS);
    }

    /** Reduces to at most {@code maxRows x maxCols} cells. */
    public BlockMaxReduction(int maxRows, int maxCols) {
        if (maxRows < 1 || maxCols < 1) {
            throw new IllegalArgumentException("heatmap reduction: the largest cell grid must be at least 1 x 1, got "
                    + maxRows + " x " + maxCols);
        }
        this.maxRows = maxRows;
        this.maxCols = maxCols;
    }

    /** Rows of source per cell for a source of {@code size} rows (or columns) and at most {@code maxCells} cells. */
    public static int blockSize(long size, int maxCells) {
        return (int) ((size + maxCells - 1) / maxCells);
    }

    /**
     * The |W| and Wanda heatmaps of a row-major {@code out x in} weight and the activation norm of its
     * input features ({@code in} values, each finite and non-negative), by plain loops in one pass (the
     * loops the Java statistics take the same cells with, see {@link LayerByProducts}).
     */
    public LayerHeatmaps layerHeatmaps(float[] weight, int out, int in, float[] actNorm) {
        checkValues(weight, out, in);
        checkActNorm(actNorm, in);
        return heatmaps(LayerByProducts.blockMaximaOf(weight, out, in, actNorm, blockSize(out, maxRows), blockSize(in, maxCols)));
    }

    /** The |W| and Wanda heatmaps of block maxima the statistics took ({@link LayerByProducts#blockMaxima}). */
    public static LayerHeatmaps heatmaps(LayerByProducts cells) {
        return new LayerHeatmaps(
                new ReducedMatrix(cells.absMaxima(), cells.cellRows(), cells.cellColumns(), cells.rowBlock(), cells.colBlock()),
                new ReducedMatrix(cells.wandaMaxima(), cells.cellRows(), cells.cellColumns(), cells.rowBlock(), cells.colBlock()));
    }

    private static void checkValues(float[] values, int rows, int cols) {
        if (rows < 1 || cols < 1 || values == null || values.length != (long) rows * cols) {
            throw new IllegalArgumentException("heatmap reduction: a " + rows + " x " + cols + " weight needs "
                    + Math.max(0L, (long) rows * cols) + " row-major values, got "
                    + (values == null ? "none" : String.valueOf(values.length)));
        }
    }

    static void checkActNorm(float[] actNorm, long in) {
        if (actNorm == null || actNorm.length != in) {
            throw new IllegalArgumentException("heatmap reduction: the activation norm must have one value per input feature ("
                    + in + "), got " + (actNorm == null ? "none" : String.valueOf(actNorm.length)));
        }
        for (int j = 0; j < actNorm.length; j++) {
            if (!(actNorm[j] >= 0) || Float.isInfinite(actNorm[j])) {
                throw new IllegalArgumentException("heatmap reduction: the activation norm of input feature " + j + " is "
                        + actNorm[j] + "; norms must be finite and non-negative (sqrt of scaler_row)");
            }
        }
    }
}
