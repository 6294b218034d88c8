package io.layerscope.stats;

/**
 * Builds Wanda's and magnitude pruning's masks row by row and counts where they agree, so no
 * full-size mask is ever held.
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

    MaskAgreement agreement(double sparsity) {
        double n = entries;
        return new MaskAgreement(sparsity, agreeRow / n, agreeLayer / n, agreeNofM / n, layerThreshold,
                layerPruned / n);
    }
}
