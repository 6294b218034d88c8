package io.layerscope.plot;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The tests' libtorch reference for {@link BlockMaxReduction}: the same cells by tensor operations on
 * the array's own device, the matrix conceptually padded with -inf to whole blocks, reshaped to
 * {@code (R, rowBlock, C, colBlock)} and maximised over axes 1 and 3. The pad is never materialised:
 * whole blocks are one reshaped view and the short tail block is reduced on its own, so an lm_head
 * sized array is not copied.
 */
final class TorchBlockMaxReduction {
    private final int maxRows;
    private final int maxCols;

    TorchBlockMaxReduction() {
        this(BlockMaxReduction.DEFAULT_MAX_CELLS, BlockMaxReduction.DEFAULT_MAX_CELLS);
    }

    TorchBlockMaxReduction(int maxRows, int maxCols) {
        this.maxRows = maxRows;
        this.maxCols = maxCols;
    }

    /** The |W| and Wanda heatmaps: max |W| over a row block is max(max W, -min W). */
    LayerHeatmaps layerHeatmaps(NDArray weight, float[] actNorm) {
        Shape shape = checkMatrix(weight);
        BlockMaxReduction.checkActNorm(actNorm, shape.get(1));
        int rb = BlockMaxReduction.blockSize(shape.get(0), maxRows);
        int cb = BlockMaxReduction.blockSize(shape.get(1), maxCols);
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

    /** Maximum (or minimum) over consecutive blocks of rows: whole blocks as a view, the tail alone. */
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

    private static Shape checkMatrix(NDArray matrix) {
        Shape shape = matrix.getShape();
        DataType type = matrix.getDataType();
        if (shape.dimension() != 2 || (type != DataType.FLOAT16 && type != DataType.FLOAT32 && type != DataType.FLOAT64)) {
            throw new IllegalArgumentException("reference reduction: needs a 2-D float array, got " + shape + " " + type);
        }
        return shape;
    }
}
