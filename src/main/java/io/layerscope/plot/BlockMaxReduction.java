package io.layerscope.plot;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.layerscope.stats.LayerByProducts;

/**
 * Reduces an {@code [out, in]} matrix to at most {@code maxRows x maxCols} cells (512 x 512 by
 * default) by block maximum, so a heatmap never draws more than about 262 thousand cells whatever the
 * layer size. Stage two takes the cells in its statistics' passes ({@link LayerByProducts}); the
 * loops over a Java float[] here take the same for a picture drawn apart. The DJL path over an
 * NDArray (on the tensor's own device) is what the tests hold those loops to; no job uses it.
 *
 * <p>Block sizes are {@code rowBlock = ceil(out / maxRows)} and {@code colBlock = ceil(in / maxCols)},
 * giving {@code ceil(out / rowBlock) x ceil(in / colBlock)} cells. Conceptually the matrix is padded
 * with -inf to a multiple of the blocks, reshaped to {@code (R, rowBlock, C, colBlock)} and maximised
 * over axes 1 and 3. To avoid copying a large weight (lm_head is 128256 x 2048, 1 GB in float32) the
 * padding is never materialised: rows are reduced first as a reshaped view of the whole blocks plus a
 * separate maximum over the short tail block, which equals a -inf pad; columns are then reduced the
 * same way on the already small {@code (R, in)} result. NaN propagates (the block shows NaN).
 *
 * <p>The heatmaps of a layer ({@link #layerHeatmaps}) need only one pass over the weight and no
 * weight-sized temporary: {@code max |W|} over a row block is {@code max(max W, -min W)}, and since the
 * activation norm is constant down a column and non-negative, the block maximum of
 * {@code |W[i, j]| * a[j]} equals {@code a[j] * max_i |W[i, j]|} exactly (rounding is monotonic), so
 * the Wanda heatmap is formed after the row reduction.
 *
 * <pre>{@code
 * try (NDManager nd = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
 *     NDArray w = nd.create(weights, new Shape(8192, 2048));
 *     LayerHeatmaps maps = new BlockMaxReduction().layerHeatmaps(w, actNorm);
 *     maps.wanda();   // 512 x 512 cells, blocks of 16 x 4
 * }
 * }</pre>
 */
public final class BlockMaxReduction {
    /** Default largest number of cells along each axis. */
    public static final int DEFAULT_MAX_CELLS = 512;
    /** The DJL engine every array is created with. */
    private static final String ENGINE = "PyTorch";

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
     * Block maxima of a 2-D floating-point array (float16, float32 or float64) on its own device. The
     * array is left untouched and keeps its manager; temporaries are freed before returning.
     */
    public ReducedMatrix reduce(NDArray matrix) {
        Shape shape = checkMatrix(matrix, "matrix");
        int rb = blockSize(shape.get(0), maxRows);
        int cb = blockSize(shape.get(1), maxCols);
        try (NDManager scope = matrix.getManager().newSubManager(matrix.getDevice())) {
            matrix.tempAttach(scope);
            NDArray rowsReduced = blockExtremeOverRows(matrix, rb, true);
            return toReduced(blockExtremeOverRows(rowsReduced.transpose(), cb, true).transpose(), rb, cb);
        }
    }

    /** Block maxima of a row-major {@code rows x cols} float matrix, computed on the CPU. */
    public ReducedMatrix reduce(float[] values, int rows, int cols) {
        checkValues(values, rows, cols, "matrix");
        try (NDManager nd = NDManager.newBaseManager(Device.cpu(), ENGINE)) {
            return reduce(nd.create(values, new Shape(rows, cols)));
        }
    }

    /**
     * The |W| and Wanda heatmaps of one weight {@code [out, in]} and the activation norm of its input
     * features ({@code in} values, each finite and non-negative), on the weight's device.
     */
    public LayerHeatmaps layerHeatmaps(NDArray weight, float[] actNorm) {
        Shape shape = checkMatrix(weight, "weight");
        checkActNorm(actNorm, shape.get(1));
        int rb = blockSize(shape.get(0), maxRows);
        int cb = blockSize(shape.get(1), maxCols);
        try (NDManager scope = weight.getManager().newSubManager(weight.getDevice())) {
            weight.tempAttach(scope);
            NDArray rowMax = blockExtremeOverRows(weight, rb, true);
            NDArray rowMin = blockExtremeOverRows(weight, rb, false);
            // Widen before multiplying: a float16 weight times a float32 norm must not round to float16.
            NDArray absRows = rowMax.maximum(rowMin.neg()).toType(DataType.FLOAT32, false);
            NDArray wandaRows = absRows.mul(scope.create(actNorm));
            NDArray abs = blockExtremeOverRows(absRows.transpose(), cb, true).transpose();
            NDArray wanda = blockExtremeOverRows(wandaRows.transpose(), cb, true).transpose();
            return new LayerHeatmaps(toReduced(abs, rb, cb), toReduced(wanda, rb, cb));
        }
    }

    /**
     * {@link #layerHeatmaps(NDArray, float[])} for a row-major {@code out x in} weight already in Java
     * memory, by plain loops in one pass (the loops the Java statistics take the same cells with, see
     * {@link LayerByProducts}; stage two takes them there): copying the weight into libtorch first cost
     * more than the reduction (lm_head's above all). Same cells, NaN
     * included.
     */
    public LayerHeatmaps layerHeatmaps(float[] weight, int out, int in, float[] actNorm) {
        checkValues(weight, out, in, "weight");
        checkActNorm(actNorm, in);
        return heatmaps(LayerByProducts.blockMaximaOf(weight, out, in, actNorm, blockSize(out, maxRows), blockSize(in, maxCols)));
    }

    /** The |W| and Wanda heatmaps of block maxima the statistics took ({@link LayerByProducts#blockMaxima}). */
    public static LayerHeatmaps heatmaps(LayerByProducts cells) {
        return new LayerHeatmaps(
                new ReducedMatrix(cells.absMaxima(), cells.cellRows(), cells.cellColumns(), cells.rowBlock(), cells.colBlock()),
                new ReducedMatrix(cells.wandaMaxima(), cells.cellRows(), cells.cellColumns(), cells.rowBlock(), cells.colBlock()));
    }

    /**
     * Maximum (or minimum) over consecutive blocks of {@code block} rows of a 2-D array: whole blocks
     * as one reshaped view, the shorter tail block on its own (equal to padding it with -inf, or +inf
     * for the minimum, without copying the source).
     */
    private static NDArray blockExtremeOverRows(NDArray x, int block, boolean max) {
        long n = x.getShape().get(0);
        long m = x.getShape().get(1);
        long whole = n / block;
        NDArray head = whole * block == n ? x : x.get(new NDIndex("0:{}", whole * block));
        NDArray reduced = extreme(head.reshape(whole, block, m), 1, max);
        if (whole * block == n) {
            return reduced;
        }
        NDArray tail = extreme(x.get(new NDIndex("{}:", whole * block)), 0, max).reshape(1, m);
        return reduced.concat(tail, 0);
    }

    private static NDArray extreme(NDArray x, int axis, boolean max) {
        return max ? x.max(new int[] {axis}) : x.min(new int[] {axis});
    }

    private static ReducedMatrix toReduced(NDArray cells, int rowBlock, int colBlock) {
        Shape s = cells.getShape();
        float[] values = cells.toType(DataType.FLOAT32, false).toFloatArray();
        return new ReducedMatrix(values, (int) s.get(0), (int) s.get(1), rowBlock, colBlock);
    }

    private static Shape checkMatrix(NDArray matrix, String what) {
        Shape shape = matrix.getShape();
        if (shape.dimension() != 2 || shape.get(0) < 1 || shape.get(1) < 1) {
            throw new IllegalArgumentException("heatmap reduction: the " + what + " must be a non-empty 2-D [out, in] array, got shape "
                    + shape + "; reshape it to (out_features, in_features) first");
        }
        DataType type = matrix.getDataType();
        if (type != DataType.FLOAT16 && type != DataType.FLOAT32 && type != DataType.FLOAT64) {
            throw new IllegalArgumentException("heatmap reduction: the " + what + " has data type " + type
                    + "; use float16, float32 or float64 (widen bfloat16 to float32 in Java before it reaches DJL)");
        }
        return shape;
    }

    private static void checkValues(float[] values, int rows, int cols, String what) {
        if (rows < 1 || cols < 1 || values == null || values.length != (long) rows * cols) {
            throw new IllegalArgumentException("heatmap reduction: a " + rows + " x " + cols + " " + what + " needs "
                    + Math.max(0L, (long) rows * cols) + " row-major values, got "
                    + (values == null ? "none" : String.valueOf(values.length)));
        }
    }

    private static void checkActNorm(float[] actNorm, long in) {
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
