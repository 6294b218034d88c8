package io.layerscope.stats;

/**
 * Sums, over a layer's rows, the quadratic forms dW_i G dW_i^T of the pruned part of each row under
 * the five masks {@link MaskComparison} builds, and W_i G W_i^T of the whole row (the denominator),
 * so {@link ReconstructionErrors} need no full-size mask. Rows are gathered into a block of
 * {@link #rowsPerFlush} rows (six vectors each) and sent to {@link GramProducts} at once. One
 * instance per chunk of rows; parts merge in chunk order, and the blocks depend only on the
 * layer's shape, so the sums are the same bits whatever the threads.
 */
final class MaskErrors {
    /** The vectors of one row: W_i, then dW_i under Wanda row, magnitude row, magnitude layer, Wanda 2:4, RIA. */
    private static final int VECTORS = 6;
    /** About this many doubles per block sent to the device... */
    private static final int BLOCK_VALUES = 1 << 20;
    /**
     * ...but at least this many vectors: a float64 product with a wide G runs on a CPU at a fraction
     * of its speed when the block has only a hundred-odd rows, which is what BLOCK_VALUES alone
     * gives at 8192 inputs (docs/PERFORMANCE.md, "--gram at the 1B shape: wider product blocks").
     */
    private static final int MIN_VECTORS = 512;

    private final GramProducts gram;
    private final int in;
    private final int rowsPerFlush;
    /** Allocated with the first row: the instance that only merges the parts never needs one. */
    private double[] block;
    private int rowsInBlock;
    private final double[] sums = new double[VECTORS];
    private double diagWanda;

    MaskErrors(GramProducts gram, int in) {
        if (gram.features() != in) {
            throw new IllegalArgumentException("a Gram matrix of side " + gram.features() + " for a layer of in_features "
                    + in + "; the Gram matrix belongs to another tap");
        }
        this.gram = gram;
        this.in = in;
        this.rowsPerFlush = rowsPerFlush(in);
    }

    /** Rows a block holds for rows of {@code in} weights; depends only on {@code in}, so the sums keep their bits. */
    private static int rowsPerFlush(int in) {
        return Math.max(BLOCK_VALUES / (VECTORS * in), (MIN_VECTORS + VECTORS - 1) / VECTORS);
    }

    /** A new, empty instance for another chunk of the same layer. */
    MaskErrors emptyPart() {
        return new MaskErrors(gram, in);
    }

    /** A row's masks, 1 = pruned; its weights are {@code w[base, base + in)}. */
    void addRow(float[] w, int base, byte[] wandaRow, byte[] magnitudeRow, byte[] magnitudeLayer, byte[] wanda2of4,
                byte[] ria) {
        if (block == null) {
            block = new double[rowsPerFlush * VECTORS * in];
        }
        int at = rowsInBlock * VECTORS * in;
        for (int j = 0; j < in; j++) {
            double v = w[base + j];
            block[at + j] = v;
            block[at + in + j] = wandaRow[j] * v;
            block[at + 2 * in + j] = magnitudeRow[j] * v;
            block[at + 3 * in + j] = magnitudeLayer[j] * v;
            block[at + 4 * in + j] = wanda2of4[j] * v;
            block[at + 5 * in + j] = ria[j] * v;
            diagWanda += wandaRow[j] * v * v * gram.diagonal(j);
        }
        if (++rowsInBlock == rowsPerFlush) {
            flush();
        }
    }

    /**
     * Sends the rows still gathered to the products: at the end of a chunk, on the thread that ran
     * it, so that the thread merging the parts does not run products beside the pool's threads.
     * The blocks, and so the sums, are the same either way.
     */
    void flush() {
        if (rowsInBlock == 0) {
            return;
        }
        double[] forms = gram.quadraticForms(block, rowsInBlock * VECTORS);
        for (int r = 0; r < rowsInBlock; r++) {
            for (int k = 0; k < VECTORS; k++) {
                sums[k] += forms[r * VECTORS + k];
            }
        }
        rowsInBlock = 0;
    }

    /** Adds a finished part's sums (after its last row) to this instance's. */
    void merge(MaskErrors part) {
        part.flush();
        flush();
        for (int k = 0; k < VECTORS; k++) {
            sums[k] += part.sums[k];
        }
        diagWanda += part.diagWanda;
    }

    ReconstructionErrors errors() {
        flush();
        double whole = sums[0];
        return new ReconstructionErrors(sums[1] / whole, sums[2] / whole, sums[3] / whole, sums[4] / whole,
                sums[5] / whole, diagWanda / whole);
    }
}
