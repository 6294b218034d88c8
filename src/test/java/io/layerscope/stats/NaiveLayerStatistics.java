package io.layerscope.stats;

import java.util.Arrays;
import java.util.Comparator;

/**
 * A slow, direct reading of REFERENCE.md section 3, written apart from the main code for tests:
 * full sorts, Java's stable object sort for masks, nested loops.
 */
final class NaiveLayerStatistics {
    private NaiveLayerStatistics() {
    }

    static LayerStats compute(float[] w, int out, int in, float[] scalerRow) {
        float[] act = new float[in];
        for (int j = 0; j < in; j++) {
            act[j] = (float) Math.sqrt(scalerRow[j]);
        }
        float[] abs = new float[out * in];
        float[] metric = new float[out * in];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                abs[i * in + j] = Math.abs(w[i * in + j]);
                metric[i * in + j] = abs[i * in + j] * act[j];
            }
        }

        // RIA (REFERENCE.md section 8): column and row sums of |W| straight from their definition
        float[] ria = new float[out * in];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                double column = 0;
                for (int r = 0; r < out; r++) {
                    column += abs[r * in + j];
                }
                double row = 0;
                for (int c = 0; c < in; c++) {
                    row += abs[i * in + c];
                }
                float a = abs[i * in + j];
                float byColumn = column == 0 ? 0f : a / (float) column;
                float byRow = row == 0 ? 0f : a / (float) row;
                ria[i * in + j] = (byColumn + byRow) * (float) Math.sqrt(act[j]);
            }
        }
        float[] sortedRia = ria.clone();
        Arrays.sort(sortedRia);
        float riaThreshold = sortedRia[(int) (ria.length * 0.5)];
        long agreeRia = 0;

        int k = (int) (in * 0.5);
        float[] sortedAbs = abs.clone();
        Arrays.sort(sortedAbs);
        float t = sortedAbs[(int) (abs.length * 0.5)];
        long agreeRow = 0;
        long agreeLayer = 0;
        long agree24 = 0;
        long layerPruned = 0;
        for (int i = 0; i < out; i++) {
            float[] wandaRow = Arrays.copyOfRange(metric, i * in, i * in + in);
            float[] absRow = Arrays.copyOfRange(abs, i * in, i * in + in);
            boolean[] wanda = smallest(wandaRow, 0, in, k);
            boolean[] magnitude = smallest(absRow, 0, in, k);
            boolean[] wanda24 = new boolean[in];
            boolean[] magnitude24 = new boolean[in];
            for (int g = 0; g + 4 <= in; g += 4) {
                boolean[] a = smallest(wandaRow, g, g + 4, 2);
                boolean[] b = smallest(absRow, g, g + 4, 2);
                System.arraycopy(a, g, wanda24, g, 4);
                System.arraycopy(b, g, magnitude24, g, 4);
            }
            for (int j = 0; j < in; j++) {
                boolean layer = absRow[j] <= t;
                agreeRow += wanda[j] == magnitude[j] ? 1 : 0;
                agreeLayer += wanda[j] == layer ? 1 : 0;
                agree24 += wanda24[j] == magnitude24[j] ? 1 : 0;
                layerPruned += layer ? 1 : 0;
                agreeRia += wanda[j] == (ria[i * in + j] <= riaThreshold) ? 1 : 0;
            }
        }
        double numel = out * in;
        MaskAgreement masks = new MaskAgreement(0.5, agreeRow / numel, agreeLayer / numel, agree24 / numel, t,
                layerPruned / numel, agreeRia / numel, riaThreshold);

        double mean = 0;
        for (float m : metric) {
            mean += m;
        }
        mean /= metric.length;
        double[] ratios = new double[3];
        int[] multipliers = {3, 5, 7};
        for (int r = 0; r < 3; r++) {
            for (float m : metric) {
                ratios[r] += m > multipliers[r] * mean ? 1 : 0;
            }
            ratios[r] /= metric.length;
        }

        Integer[] order = new Integer[in];
        for (int j = 0; j < in; j++) {
            order[j] = j;
        }
        Arrays.sort(order, Comparator.comparingDouble(j -> -act[j]));
        int[] top = new int[Math.min(16, in)];
        for (int r = 0; r < top.length; r++) {
            top[r] = order[r];
        }
        return new LayerStats(out, in, distribution(abs), distribution(act), distribution(metric), distribution(ria), masks,
                new OutlierRatios(ratios[0], ratios[1], ratios[2]), top, act, null);
    }

    /** Mask of the k smallest of values[from..to) by a stable sort, indexed like values. */
    private static boolean[] smallest(float[] values, int from, int to, int k) {
        Integer[] order = new Integer[to - from];
        for (int j = from; j < to; j++) {
            order[j - from] = j;
        }
        Arrays.sort(order, Comparator.comparingDouble(j -> values[j]));
        boolean[] mask = new boolean[values.length];
        for (int r = 0; r < k; r++) {
            mask[order[r]] = true;
        }
        return mask;
    }

    static Distribution distribution(float[] values) {
        int n = values.length;
        float[] sorted = values.clone();
        Arrays.sort(sorted);
        double mean = 0;
        for (float v : values) {
            mean += v;
        }
        mean /= n;
        double squares = 0;
        for (float v : values) {
            squares += (v - mean) * (v - mean);
        }
        Summary summary = new Summary(n, mean, Math.sqrt(squares / (n - 1)), sorted[0], sorted[n - 1],
                sorted[(n - 1) / 2], quantile(sorted, 0.01), quantile(sorted, 0.99));

        double[] edges = LogBins.STANDARD.edges();
        int bins = edges.length - 1;
        long[] counts = new long[bins];
        long under = 0;
        long over = 0;
        for (float v : values) {
            if (v < edges[0]) {
                under++;
                counts[0]++;
            } else if (v >= edges[bins]) {
                over++;
                counts[bins - 1]++;
            } else {
                int b = 0;
                while (!(edges[b] <= v && v < edges[b + 1])) {
                    b++;
                }
                counts[b]++;
            }
        }
        return new Distribution(summary, new Histogram(edges, counts, under, over));
    }

    private static double quantile(float[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return sorted[lo] + (pos - lo) * ((double) sorted[hi] - sorted[lo]);
    }
}
