package io.layerscope.stats;

/**
 * A super-weight candidate (Yu et al. 2024): in one block's down_proj, the largest |input| (column j)
 * and the largest |output| (row i) are on the same token, so W[i, j] is the weight that carries the
 * spike. Zeroing it destroys the model; a mask that prunes it is a red flag.
 *
 * <pre>{@code
 * SuperWeight c = SuperWeight.check(block, in, out, weightRow, scalerRow, 0.5);
 * if (c.prunedWandaRow()) { ... warn ... }
 * }</pre>
 *
 * @param input              down_proj's largest |input|: its channel is the column j
 * @param output             down_proj's largest |output|: its channel is the row i
 * @param weight             W[i, j]
 * @param rankInRow          1 + the entries of row i with a larger |W| (equal ones at a lower column count as larger)
 * @param prunedWandaRow     whether Wanda's per-row mask at {@code sparsity} prunes it; null without the layer's scaler_row
 * @param prunedMagnitudeRow whether the per-row magnitude mask prunes it
 * @param prunedWanda2of4    whether Wanda's 2:4 mask prunes it; null without the layer's scaler_row
 */
public record SuperWeight(int block, Peak input, Peak output, float weight, int rankInRow, Boolean prunedWandaRow,
                          boolean prunedMagnitudeRow, Boolean prunedWanda2of4, double sparsity) {

    public int row() {
        return output.channel();
    }

    public int column() {
        return input.channel();
    }

    /** Whether any of the masks prunes it. */
    public boolean pruned() {
        return prunedMagnitudeRow || Boolean.TRUE.equals(prunedWandaRow) || Boolean.TRUE.equals(prunedWanda2of4);
    }

    /**
     * The candidate of one block, or null when the two spikes are not on the same token.
     *
     * @param weightRow row i of down_proj.weight (i = the output spike's channel)
     * @param scalerRow down_proj's scaler_row, or null when stage one did not sum it
     */
    public static SuperWeight check(int block, Peak input, Peak output, float[] weightRow, float[] scalerRow, double sparsity) {
        if (input == null || !input.sameToken(output)) {
            return null;
        }
        int j = input.channel();
        float[] abs = new float[weightRow.length];
        for (int k = 0; k < abs.length; k++) {
            abs[k] = Math.abs(weightRow[k]);
        }
        int rank = 1;
        for (int k = 0; k < abs.length; k++) {
            rank += abs[k] > abs[j] || (abs[k] == abs[j] && k < j) ? 1 : 0;
        }
        RowPruner pruner = new RowPruner(abs.length, sparsity);
        byte[] mask = new byte[abs.length];
        pruner.unstructured(abs, mask);
        boolean magnitude = mask[j] == 1;
        Boolean wanda = null;
        Boolean wanda24 = null;
        if (scalerRow != null) {
            float[] metric = new float[abs.length];
            for (int k = 0; k < abs.length; k++) {
                metric[k] = abs[k] * ActivationNorms.sqrt(scalerRow[k]);
            }
            pruner.unstructured(metric, mask);
            wanda = mask[j] == 1;
            RowPruner.nOfM(metric, 2, 4, mask);
            wanda24 = mask[j] == 1;
        }
        return new SuperWeight(block, input, output, weightRow[j], rank, wanda, magnitude, wanda24, sparsity);
    }
}
