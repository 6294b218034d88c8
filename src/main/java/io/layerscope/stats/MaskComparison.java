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
    private final float layerThreshold;
    private final boolean[] wandaRow;
    private final boolean[] magnitudeRow;
    private final boolean[] wandaNofM;
    private final boolean[] magnitudeNofM;
    private long entries;
    private long agreeRow;
    private long agreeLayer;
    private long agreeNofM;
    private long layerPruned;

    /**
     * @param layerThreshold the |W| value at rank floor(numel * sparsity), from the |W| distribution
     */
    MaskComparison(int in, double sparsity, float layerThreshold) {
        this.pruner = new RowPruner(in, sparsity);
        this.layerThreshold = layerThreshold;
        this.wandaRow = new boolean[in];
        this.magnitudeRow = new boolean[in];
        this.wandaNofM = new boolean[in];
        this.magnitudeNofM = new boolean[in];
    }

    /** One output row: its |W| and its Wanda metric, both of length in. */
    void addRow(float[] abs, float[] wanda) {
        pruner.unstructured(wanda, wandaRow);
        pruner.unstructured(abs, magnitudeRow);
        RowPruner.nOfM(wanda, N, M, wandaNofM);
        RowPruner.nOfM(abs, N, M, magnitudeNofM);
        for (int j = 0; j < abs.length; j++) {
            boolean layerMask = abs[j] <= layerThreshold;
            agreeRow += wandaRow[j] == magnitudeRow[j] ? 1 : 0;
            agreeLayer += wandaRow[j] == layerMask ? 1 : 0;
            agreeNofM += wandaNofM[j] == magnitudeNofM[j] ? 1 : 0;
            layerPruned += layerMask ? 1 : 0;
        }
        entries += abs.length;
    }

    /** Adds the rows {@code part} compared (same row length and layer threshold) to this instance's. */
    void merge(MaskComparison part) {
        if (part == this || part.wandaRow.length != wandaRow.length || part.pruner.pruneCount() != pruner.pruneCount()
                || Float.floatToRawIntBits(part.layerThreshold) != Float.floatToRawIntBits(layerThreshold)) {
            throw new IllegalArgumentException("merge a different comparison of the same row length and layer threshold");
        }
        entries += part.entries;
        agreeRow += part.agreeRow;
        agreeLayer += part.agreeLayer;
        agreeNofM += part.agreeNofM;
        layerPruned += part.layerPruned;
    }

    MaskAgreement agreement(double sparsity) {
        double n = entries;
        return new MaskAgreement(sparsity, agreeRow / n, agreeLayer / n, agreeNofM / n, layerThreshold,
                layerPruned / n);
    }
}
