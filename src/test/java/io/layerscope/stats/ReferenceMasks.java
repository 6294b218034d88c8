package io.layerscope.stats;

import java.util.Arrays;
import java.util.Comparator;

/**
 * The five masks whose output error --gram reports, written apart from the main code for tests:
 * full stable sorts of each row or of the whole layer, RIA straight from its definition (a share
 * of an all-zero column or row taken as 0, as docs/METRICS.md says).
 */
public final class ReferenceMasks {
    private ReferenceMasks() {
    }

    /**
     * Wanda per row, magnitude per row, magnitude per layer, Wanda 2:4 and RIA per layer at sparsity
     * {@code p} (1 = pruned), for W [out, in] and activation norms {@code act}.
     */
    public static boolean[][] of(float[] w, int out, int in, float[] act, double p) {
        float[] abs = new float[w.length];
        float[] wanda = new float[w.length];
        double[] column = new double[in];
        double[] row = new double[out];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                abs[i * in + j] = Math.abs(w[i * in + j]);
                wanda[i * in + j] = abs[i * in + j] * act[j];
                column[j] += abs[i * in + j];
                row[i] += abs[i * in + j];
            }
        }
        float[] ria = new float[w.length];
        for (int e = 0; e < w.length; e++) {
            int i = e / in;
            int j = e % in;
            // an all-zero column or row: its share is 0, not 0/0 = NaN (which would sort last, never pruned)
            float columnShare = column[j] > 0 ? abs[e] / (float) column[j] : 0f;
            float rowShare = row[i] > 0 ? abs[e] / (float) row[i] : 0f;
            ria[e] = (columnShare + rowShare) * (float) Math.sqrt(act[j]);
        }
        boolean[][] m = new boolean[5][w.length];
        int k = (int) (in * p);
        for (int i = 0; i < out; i++) {
            smallest(wanda, i * in, i * in + in, k, m[0]);
            smallest(abs, i * in, i * in + in, k, m[1]);
            for (int g = 0; g + 4 <= in; g += 4) {
                smallest(wanda, i * in + g, i * in + g + 4, 2, m[3]);
            }
        }
        layer(abs, p, m[2]);
        layer(ria, p, m[4]);
        return m;
    }

    private static void layer(float[] values, double p, boolean[] mask) {
        float[] sorted = values.clone();
        Arrays.sort(sorted);
        float t = sorted[(int) (values.length * p)];
        for (int e = 0; e < values.length; e++) {
            mask[e] = values[e] <= t;
        }
    }

    private static void smallest(float[] values, int from, int to, int k, boolean[] mask) {
        Integer[] order = new Integer[to - from];
        for (int j = from; j < to; j++) {
            order[j - from] = j;
        }
        Arrays.sort(order, Comparator.comparingDouble(j -> values[j]));
        for (int r = 0; r < k; r++) {
            mask[order[r]] = true;
        }
    }
}
