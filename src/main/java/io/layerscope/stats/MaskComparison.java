package io.layerscope.stats;

/**
 * Builds Wanda's and magnitude pruning's masks row by row and counts where they agree, so no
 * full-size mask is ever held. Rows may be compared on several threads, one instance each (it
 * keeps scratch arrays), and the counts {@link #merge merged}: they are whole numbers, so the
 * result does not depend on how the rows were split.
 */
final class MaskComparison {
    private static final int N = 2;
    private static final int M = 4;

    private final RowPruner pruner;
    private final double sparsity;
    private final float layerThreshold;
    private final int layerThresholdBits;
    private final float riaThreshold;
    private final int riaThresholdBits;
    private final byte[] wandaRow;
    private final byte[] magnitudeRow;
    private final byte[] wandaNofM;
    private final byte[] magnitudeNofM;
    private long entries;
    private long agreeRow;
    private long agreeLayer;
    private long agreeNofM;
    private long layerPruned;
    private long agreeRiaWanda;
    private final MaskErrors errors;
    private final byte[] layerRow;
    private final byte[] riaRow;
    /** The columns whose Wanda-pruned rows are counted, or null for none; per column of them, those rows. */
    private final int[] columns;
    private final int[] prunedRows;

    /**
     * @param layerThreshold the |W| value at rank floor(numel * sparsity), from the |W| distribution
     * @param riaThreshold   the RIA value at the same rank: RIA's layer-wise mask prunes RIA <= it
     */
    MaskComparison(int in, double sparsity, float layerThreshold, float riaThreshold) {
        this(in, sparsity, layerThreshold, riaThreshold, null, null);
    }

    /**
     * As above, also summing the output error of every mask into {@code errors} (null: not), and
     * counting for each of {@code columns} (null: none) the rows whose Wanda row mask prunes it.
     */
    MaskComparison(int in, double sparsity, float layerThreshold, float riaThreshold, MaskErrors errors, int[] columns) {
        this.pruner = new RowPruner(in, sparsity);
        this.sparsity = sparsity;
        this.layerThreshold = layerThreshold;
        this.layerThresholdBits = Float.floatToRawIntBits(layerThreshold + 0f);
        this.riaThreshold = riaThreshold;
        this.riaThresholdBits = Float.floatToRawIntBits(riaThreshold + 0f);
        this.wandaRow = new byte[in];
        this.magnitudeRow = new byte[in];
        this.wandaNofM = new byte[in];
        this.magnitudeNofM = new byte[in];
        this.errors = errors;
        this.layerRow = errors == null ? null : new byte[in];
        this.riaRow = errors == null ? null : new byte[in];
        this.columns = columns;
        this.prunedRows = columns == null ? null : new int[columns.length];
    }

    /** An empty comparison of the same layer for another chunk of rows (with its own error sums). */
    MaskComparison emptyPart() {
        return new MaskComparison(wandaRow.length, sparsity, layerThreshold, riaThreshold,
                errors == null ? null : errors.emptyPart(), columns);
    }

    /**
     * One output row: its weights {@code w[base, base + in)} (read only for the output errors), its
     * |W|, its Wanda metric and its RIA metric, all of length in (non-negative, not NaN, as
     * {@link RowPruner} checks). The masks are 0/1 bytes and counted by arithmetic: with about half
     * of the entries pruned, a branch per comparison would be mispredicted half the time.
     */
    void addRow(float[] w, int base, float[] abs, float[] wanda, float[] ria) {
        pruner.unstructured(wanda, wandaRow);
        pruner.unstructured(abs, magnitudeRow);
        RowPruner.nOfM(wanda, N, M, wandaNofM);
        RowPruner.nOfM(abs, N, M, magnitudeNofM);
        int sameRow = 0;
        int sameLayer = 0;
        int sameNofM = 0;
        int underLayerThreshold = 0;
        int sameRiaWanda = 0;
        for (int j = 0; j < abs.length; j++) {
            // 1 where |W| <= the layer threshold: non-negative float bits order like the floats
            int layerMask = (layerThresholdBits - Float.floatToRawIntBits(abs[j] + 0f)) >>> 31 ^ 1;
            int riaMask = (riaThresholdBits - Float.floatToRawIntBits(ria[j] + 0f)) >>> 31 ^ 1;
            sameRiaWanda += 1 ^ wandaRow[j] ^ riaMask;
            if (errors != null) {
                layerRow[j] = (byte) layerMask;
                riaRow[j] = (byte) riaMask;
            }
            sameRow += 1 ^ wandaRow[j] ^ magnitudeRow[j];
            sameLayer += 1 ^ wandaRow[j] ^ layerMask;
            sameNofM += 1 ^ wandaNofM[j] ^ magnitudeNofM[j];
            underLayerThreshold += layerMask;
        }
        agreeRow += sameRow;
        agreeLayer += sameLayer;
        agreeNofM += sameNofM;
        layerPruned += underLayerThreshold;
        agreeRiaWanda += sameRiaWanda;
        entries += abs.length;
        if (columns != null) {
            for (int k = 0; k < columns.length; k++) {
                prunedRows[k] += wandaRow[columns[k]];
            }
        }
        if (errors != null) {
            errors.addRow(w, base, wandaRow, magnitudeRow, layerRow, wandaNofM, riaRow);
        }
    }

    /** Adds the rows {@code part} compared (same row length and layer threshold) to this instance's. */
    void merge(MaskComparison part) {
        if (part == this || part.wandaRow.length != wandaRow.length || part.pruner.pruneCount() != pruner.pruneCount()
                || Float.floatToRawIntBits(part.layerThreshold) != Float.floatToRawIntBits(layerThreshold)
                || Float.floatToRawIntBits(part.riaThreshold) != Float.floatToRawIntBits(riaThreshold)) {
            throw new IllegalArgumentException("merge a different comparison of the same row length and layer threshold");
        }
        entries += part.entries;
        agreeRow += part.agreeRow;
        agreeLayer += part.agreeLayer;
        agreeNofM += part.agreeNofM;
        layerPruned += part.layerPruned;
        agreeRiaWanda += part.agreeRiaWanda;
        if (columns != null) {
            for (int k = 0; k < columns.length; k++) {
                prunedRows[k] += part.prunedRows[k];
            }
        }
        if (errors != null) {
            errors.merge(part.errors);
        }
    }

    /** Ends a chunk's rows: their output errors' last products run now, on the calling thread. */
    void endRows() {
        if (errors != null) {
            errors.flush();
        }
    }

    /** Per column asked for, the rows added (merged parts' included) whose Wanda row mask prunes it. */
    int[] wandaPrunedRows() {
        if (columns == null) {
            throw new IllegalStateException("no columns were asked for");
        }
        return prunedRows.clone();
    }

    /** The output errors of the masks, or null when not asked for. */
    ReconstructionErrors errors() {
        return errors == null ? null : errors.errors();
    }

    MaskAgreement agreement(double sparsity) {
        double n = entries;
        return new MaskAgreement(sparsity, agreeRow / n, agreeLayer / n, agreeNofM / n, layerThreshold,
                layerPruned / n, agreeRiaWanda / n, riaThreshold);
    }
}
