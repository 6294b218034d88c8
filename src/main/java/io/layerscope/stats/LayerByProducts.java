package io.layerscope.stats;

import java.util.Arrays;

/**
 * What a caller may ask {@link LayerStatistics} to compute besides {@link LayerStats}, in the
 * passes it makes over the weight anyway, instead of passes of the caller's own:
 * <ul>
 * <li>{@link #wandaAbove(float[]) counts of the Wanda metric above thresholds} (OWL's block
 *     thresholds), exactly {@code |W[i, j]| * act_norm[j] > t} over all entries, as
 *     {@code BlockOutlierRatios.countAbove} counts them;</li>
 * <li>{@link #blockMaxima(int, int) block maxima} of |W| and of the Wanda metric over blocks of
 *     {@code rowBlock x colBlock} entries (the layer's heatmaps), the cells of
 *     {@code BlockMaxReduction.layerHeatmaps}: per cell the largest |W| and the largest
 *     {@code act_norm[j] * max_i |W[i, j]|}, which is the largest Wanda metric (a non-negative factor
 *     keeps the order);</li>
 * <li>{@link #wandaPrunedRows(int[]) for some input columns, the rows whose Wanda row mask prunes
 *     them} (the outlier features' columns, for {@code outlier_features.wanda_pruned_share}).</li>
 * </ul>
 *
 * <pre>{@code
 * LayerByProducts extra = new LayerByProducts().wandaAbove(thresholds).blockMaxima(16, 4);
 * LayerStats s = LayerStatistics.compute(name, w, out, in, scalerRow, 0.5, pool, null, extra);
 * long[] above = extra.wandaAboveCounts();
 * float[] absCells = extra.absMaxima();   // extra.cellRows() x extra.cellColumns(), row-major
 * }</pre>
 *
 * <p>An instance serves one call; its results are filled when the call returns.
 */
public final class LayerByProducts {
    private float[] wandaThresholds = new float[0];
    private long[] wandaAboveCounts;
    private int rowBlock;
    private int colBlock;
    private float[] absMaxima;
    private float[] wandaMaxima;
    private int cellRows;
    private int cellColumns;
    private int[] prunedColumns;
    private int[] prunedRows;

    /** Count the entries whose Wanda metric is strictly above each threshold (compared as floats). */
    public LayerByProducts wandaAbove(float[] thresholds) {
        this.wandaThresholds = thresholds.clone();
        return this;
    }

    /** Take the block maxima of |W| and of the Wanda metric over blocks of {@code rowBlock x colBlock} entries. */
    public LayerByProducts blockMaxima(int rowBlock, int colBlock) {
        if (rowBlock < 1 || colBlock < 1) {
            throw new IllegalArgumentException("blocks must be at least 1 x 1, got " + rowBlock + " x " + colBlock);
        }
        this.rowBlock = rowBlock;
        this.colBlock = colBlock;
        return this;
    }

    /**
     * For each of {@code columns} (input features, each once), count the rows whose Wanda row mask (at
     * the statistics' sparsity, ties to the lower column) prunes the weight in that column.
     */
    public LayerByProducts wandaPrunedRows(int[] columns) {
        if (Arrays.stream(columns).distinct().count() != columns.length || Arrays.stream(columns).anyMatch(c -> c < 0)) {
            throw new IllegalArgumentException("columns must be distinct and not negative: " + Arrays.toString(columns));
        }
        this.prunedColumns = columns.clone();
        return this;
    }

    /** The columns of {@link #wandaPrunedRows(int[])}, or null when none were asked for. */
    int[] prunedColumns() {
        return prunedColumns;
    }

    /** Per column of {@link #wandaPrunedRows(int[])}, in their order, the rows whose Wanda row mask prunes it. */
    public int[] wandaPrunedRows() {
        if (prunedRows == null) {
            throw new IllegalStateException("no pruned rows: no columns asked for, or the statistics not computed yet");
        }
        return prunedRows.clone();
    }

    void setWandaPrunedRows(int[] rows) {
        this.prunedRows = rows.clone();
    }

    /** The counts above the thresholds of {@link #wandaAbove}, in their order (none asked for: an empty array). */
    public long[] wandaAboveCounts() {
        if (wandaAboveCounts == null) {
            throw new IllegalStateException("no counts yet: the statistics have not been computed with these by-products");
        }
        return wandaAboveCounts.clone();
    }

    /** True when {@link #blockMaxima} was asked for and the statistics have been computed. */
    public boolean hasBlockMaxima() {
        return absMaxima != null;
    }

    /** Per cell (row-major, {@link #cellRows()} x {@link #cellColumns()}) the largest |W|. */
    public float[] absMaxima() {
        checkMaxima();
        return absMaxima;
    }

    /** Per cell the largest Wanda metric. */
    public float[] wandaMaxima() {
        checkMaxima();
        return wandaMaxima;
    }

    public int cellRows() {
        checkMaxima();
        return cellRows;
    }

    public int cellColumns() {
        checkMaxima();
        return cellColumns;
    }

    public int rowBlock() {
        return rowBlock;
    }

    public int colBlock() {
        return colBlock;
    }

    private void checkMaxima() {
        if (absMaxima == null) {
            throw new IllegalStateException("no block maxima: not asked for, or the statistics not computed yet");
        }
    }

    /**
     * The block maxima alone, for a weight whose statistics are computed elsewhere (the device path):
     * the cells {@link LayerStatistics} takes in its column pass, by the same loops, on the calling
     * thread. {@code actNorm}: per input feature, finite and non-negative.
     */
    public static LayerByProducts blockMaximaOf(float[] w, int out, int in, float[] actNorm, int rowBlock, int colBlock) {
        LayerByProducts b = new LayerByProducts().blockMaxima(rowBlock, colBlock);
        BlockMaxima maxima = b.startBlockMaxima(out, in);
        BlockMaxima.Part part = maxima.part(0, out);
        part.addRows(w, 0, 0, out, new double[in], actNorm);
        maxima.merge(part);
        b.setBlockMaxima(maxima);
        return b;
    }

    float[] wandaThresholds() {
        return wandaThresholds;
    }

    void setWandaAboveCounts(long[] counts) {
        this.wandaAboveCounts = counts.clone();
    }

    /** The cells' accumulator for a layer of {@code out x in}, or null when no maxima were asked for. */
    BlockMaxima startBlockMaxima(int out, int in) {
        if (rowBlock == 0) {
            return null;
        }
        cellRows = (int) (((long) out + rowBlock - 1) / rowBlock);
        cellColumns = (int) (((long) in + colBlock - 1) / colBlock);
        absMaxima = null;
        wandaMaxima = null;
        return new BlockMaxima(cellRows, cellColumns, rowBlock, colBlock);
    }

    void setBlockMaxima(BlockMaxima maxima) {
        absMaxima = maxima.abs;
        wandaMaxima = maxima.wanda;
    }

    /**
     * The cells of one layer. Each chunk of rows fills a {@link Part} of its own, a row block (or
     * the part of one inside the chunk) at a time from the column maxima of |W| over its rows; the
     * parts merge by maximum, so a row block split between two chunks gets the maximum of both.
     */
    static final class BlockMaxima {
        private final int cols;
        private final int rowBlock;
        private final int colBlock;
        final float[] abs;
        final float[] wanda;

        BlockMaxima(int rows, int cols, int rowBlock, int colBlock) {
            this.cols = cols;
            this.rowBlock = rowBlock;
            this.colBlock = colBlock;
            this.abs = new float[rows * cols];
            this.wanda = new float[rows * cols];
            Arrays.fill(abs, Float.NEGATIVE_INFINITY);
            Arrays.fill(wanda, Float.NEGATIVE_INFINITY);
        }

        /** An empty part for the weight rows [from, to). */
        Part part(int from, int to) {
            int first = from / rowBlock;
            return new Part(first, (to - 1) / rowBlock - first + 1);
        }

        /** Takes a part's cells: the maximum of each cell's and the part's. */
        void merge(Part part) {
            int base = part.firstCellRow * cols;
            for (int k = 0; k < part.abs.length; k++) {
                abs[base + k] = Math.max(abs[base + k], part.abs[k]);
                wanda[base + k] = Math.max(wanda[base + k], part.wanda[k]);
            }
        }

        /** The cells of the cell rows some chunk of weight rows touches. */
        final class Part {
            private final int firstCellRow;
            private final float[] abs;
            private final float[] wanda;

            private Part(int firstCellRow, int cellRows) {
                this.firstCellRow = firstCellRow;
                this.abs = new float[cellRows * cols];
                this.wanda = new float[cellRows * cols];
                Arrays.fill(abs, Float.NEGATIVE_INFINITY);
                Arrays.fill(wanda, Float.NEGATIVE_INFINITY);
            }

            /**
             * Takes the weight rows [from, to) (inside this part's rows; row i from
             * {@code w[offset + (i - from) * in]} on) into the cells, one row block
             * (or the part of one in these rows) at a time, and adds each |W| into
             * {@code columnSums} by column, in row order: the statistics' column pass, which needs the
             * sums anyway, reads every entry once for both.
             */
            void addRows(float[] w, int offset, int from, int to, double[] columnSums, float[] actNorm) {
                int in = columnSums.length;
                int[] absMaxBits = new int[in];
                for (int i = from; i < to; ) {
                    int end = Math.min(to, (i / rowBlock + 1) * rowBlock);
                    Arrays.fill(absMaxBits, 0);
                    for (; i < end; i++) {
                        int base = offset + (i - from) * in;
                        for (int j = 0; j < in; j++) {
                            // |W| as its raw bits without the sign: non-negative floats order like their bits
                            int bits = Float.floatToRawIntBits(w[base + j]) & 0x7fffffff;
                            columnSums[j] += Float.intBitsToFloat(bits);
                            absMaxBits[j] = Math.max(absMaxBits[j], bits);
                        }
                    }
                    fold((end - 1) / rowBlock, absMaxBits, actNorm);
                }
            }

            /** Folds the column maxima (raw bits of the largest |W| per column) of some rows of cell row {@code cellRow} into its cells. */
            private void fold(int cellRow, int[] absMaxBits, float[] actNorm) {
                int in = absMaxBits.length;
                int base = (cellRow - firstCellRow) * cols;
                for (int c = 0; c < cols; c++) {
                    float a = abs[base + c];
                    float w = wanda[base + c];
                    for (int j = c * colBlock, stop = Math.min(in, j + colBlock); j < stop; j++) {
                        float m = Float.intBitsToFloat(absMaxBits[j]);
                        a = Math.max(a, m);
                        w = Math.max(w, m * actNorm[j]);
                    }
                    abs[base + c] = a;
                    wanda[base + c] = w;
                }
            }
        }
    }
}
