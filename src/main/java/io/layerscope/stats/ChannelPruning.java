package io.layerscope.stats;

/**
 * Which of some input channels (columns of W) Wanda's per-row mask touches: a channel is pruned in
 * a layer when the mask prunes W[i, c] in at least one row i. Used to tell which layers' masks cut
 * into systematic outlier features.
 *
 * <pre>{@code
 * boolean[] hit = ChannelPruning.wandaRow(w, out, in, scalerRow, 0.5, new int[] {3, 17});
 * }</pre>
 */
public final class ChannelPruning {
    private ChannelPruning() {
    }

    /** For each of {@code channels}, whether Wanda's per-row mask at {@code sparsity} prunes a weight in its column. */
    public static boolean[] wandaRow(float[] w, int out, int in, float[] scalerRow, double sparsity, int[] channels) {
        float[] actNorm = new float[in];
        for (int j = 0; j < in; j++) {
            actNorm[j] = (float) Math.sqrt(scalerRow[j]);
        }
        RowPruner pruner = new RowPruner(in, sparsity);
        float[] metric = new float[in];
        byte[] mask = new byte[in];
        boolean[] hit = new boolean[channels.length];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                metric[j] = Math.abs(w[i * in + j]) * actNorm[j];
            }
            pruner.unstructured(metric, mask);
            for (int k = 0; k < channels.length; k++) {
                hit[k] |= mask[channels[k]] == 1;
            }
        }
        return hit;
    }
}
