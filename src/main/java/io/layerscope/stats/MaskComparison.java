package io.layerscope.stats;

/**
 * Builds Wanda's and magnitude pruning's masks row by row and counts where they agree, so no
 * full-size mask is ever held.
 */
final class MaskComparison {
    private static final int N = 2;
    private static final int M = 4;

    private MaskComparison() {
    }

    /**
     * @param layerThreshold the |W| value at rank floor(numel * sparsity), from the |W| distribution
     */
    static MaskAgreement compare(float[] w, int out, int in, float[] actNorm, float layerThreshold,
                                 double sparsity) {
        RowPruner pruner = new RowPruner(in, sparsity);
        float[] abs = new float[in];
        float[] wanda = new float[in];
        boolean[] wandaRow = new boolean[in];
        boolean[] magnitudeRow = new boolean[in];
        boolean[] wandaNofM = new boolean[in];
        boolean[] magnitudeNofM = new boolean[in];
        long agreeRow = 0;
        long agreeLayer = 0;
        long agreeNofM = 0;
        long layerPruned = 0;
        for (int i = 0; i < out; i++) {
            int base = i * in;
            for (int j = 0; j < in; j++) {
                abs[j] = Math.abs(w[base + j]);
                wanda[j] = abs[j] * actNorm[j];
            }
            pruner.unstructured(wanda, wandaRow);
            pruner.unstructured(abs, magnitudeRow);
            RowPruner.nOfM(wanda, N, M, wandaNofM);
            RowPruner.nOfM(abs, N, M, magnitudeNofM);
            for (int j = 0; j < in; j++) {
                boolean layerMask = abs[j] <= layerThreshold;
                agreeRow += wandaRow[j] == magnitudeRow[j] ? 1 : 0;
                agreeLayer += wandaRow[j] == layerMask ? 1 : 0;
                agreeNofM += wandaNofM[j] == magnitudeNofM[j] ? 1 : 0;
                layerPruned += layerMask ? 1 : 0;
            }
        }
        double numel = (double) out * in;
        return new MaskAgreement(sparsity, agreeRow / numel, agreeLayer / numel, agreeNofM / numel,
                layerThreshold, layerPruned / numel);
    }
}
