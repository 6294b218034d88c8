package io.layerscope.plot;

import io.layerscope.stats.Histogram;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A layer with Gaussian weights (std 0.02) and log-normal activation norms with a few planted
 * outlier features (100 times larger), plus the histograms and statistics the picture needs, computed
 * here with plain loops (the stats package is built separately and is not a dependency of plot).
 */
final class SyntheticLayer {
    static final int[] OUTLIER_FEATURES_OF_2048 = {17, 700, 1400, 2001};

    final int out;
    final int in;
    final float[] weight;
    final float[] actNorm;
    final int[] outliers;

    private SyntheticLayer(int out, int in, float[] weight, float[] actNorm, int[] outliers) {
        this.out = out;
        this.in = in;
        this.weight = weight;
        this.actNorm = actNorm;
        this.outliers = outliers;
    }

    static SyntheticLayer create(int out, int in, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (0.02 * gaussian(rnd));
        }
        float[] a = new float[in];
        for (int j = 0; j < in; j++) {
            a[j] = (float) Math.exp(0.4 * gaussian(rnd));
        }
        int[] outliers = Arrays.stream(OUTLIER_FEATURES_OF_2048).map(j -> (int) ((long) j * in / 2048)).distinct().toArray();
        for (int k = 0; k < outliers.length; k++) {
            a[outliers[k]] = 60f + 40f * k;
        }
        return new SyntheticLayer(out, in, w, a, outliers);
    }

    private static double gaussian(SplittableRandom rnd) {
        return Math.sqrt(-2 * Math.log(1.0 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    float[] absWeight() {
        float[] v = new float[weight.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(weight[i]);
        }
        return v;
    }

    float[] wanda() {
        float[] v = new float[weight.length];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                v[i * in + j] = Math.abs(weight[i * in + j]) * actNorm[j];
            }
        }
        return v;
    }

    /** Block-max heatmaps by plain loops (no DJL), blocks sized as {@link BlockMaxReduction} would. */
    LayerHeatmaps loopHeatmaps() {
        int rb = (out + 511) / 512;
        int cb = (in + 511) / 512;
        int rows = (out + rb - 1) / rb;
        int cols = (in + cb - 1) / cb;
        float[] abs = new float[rows * cols];
        float[] wanda = new float[rows * cols];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                int cell = (i / rb) * cols + j / cb;
                float a = Math.abs(weight[i * in + j]);
                abs[cell] = Math.max(abs[cell], a);
                wanda[cell] = Math.max(wanda[cell], a * actNorm[j]);
            }
        }
        return new LayerHeatmaps(new ReducedMatrix(abs, rows, cols, rb, cb), new ReducedMatrix(wanda, rows, cols, rb, cb));
    }

    /** The picture data with heatmaps from {@link #loopHeatmaps()}. */
    LayerPlotData plotData() {
        return plotData(loopHeatmaps());
    }

    LayerPlotData plotData(LayerHeatmaps maps) {
        float[] abs = absWeight();
        float[] wanda = wanda();
        Map<String, String> wandaStats = summary(wanda, true);
        wandaStats.put("agree row mask", fmt(rowMaskAgreement()));
        for (int m : new int[] {3, 5, 7}) {
            wandaStats.put("outliers > " + m + "x mean", fmt(outlierRatio(wanda, m)));
        }
        return LayerPlotData.builder()
                .model("synthetic/llama-" + out + "x" + in)
                .layer("model.layers.3.mlp.gate_proj")
                .shape(out, in)
                .calibration(new CalibrationSummary("c4", 128, 2048, 0))
                .heatmaps(maps)
                .activationNorm(actNorm)
                .weight(logHistogram(abs, 80), summary(abs, true))
                .activation(logHistogram(actNorm, 60), summary(actNorm, false))
                .wanda(logHistogram(wanda, 80), wandaStats)
                .build();
    }

    private Map<String, String> summary(float[] values, boolean matrix) {
        float[] sorted = values.clone();
        Arrays.sort(sorted);
        double sum = 0;
        for (float v : values) {
            sum += v;
        }
        double mean = sum / values.length;
        double sq = 0;
        for (float v : values) {
            sq += (v - mean) * (v - mean);
        }
        Map<String, String> s = new LinkedHashMap<>();
        s.put("mean", fmt(mean));
        s.put("std", fmt(Math.sqrt(sq / (values.length - 1))));
        s.put("min", fmt(sorted[0]));
        s.put("max", fmt(sorted[sorted.length - 1]));
        s.put("median", fmt(sorted[(sorted.length - 1) / 2]));
        s.put("p99", fmt(sorted[(int) Math.floor(0.99 * (sorted.length - 1))]));
        s.put("shape", matrix ? out + " \u00d7 " + in : String.valueOf(in));
        s.put("nsamples", "128");
        return s;
    }

    private double rowMaskAgreement() {
        int prune = in / 2;
        long agree = 0;
        Integer[] byW = new Integer[in];
        Integer[] byM = new Integer[in];
        boolean[] prunedW = new boolean[in];
        boolean[] prunedM = new boolean[in];
        for (int i = 0; i < out; i++) {
            int row = i;
            for (int j = 0; j < in; j++) {
                byW[j] = j;
                byM[j] = j;
            }
            Arrays.sort(byW, (x, y) -> Float.compare(Math.abs(weight[row * in + x]), Math.abs(weight[row * in + y])));
            Arrays.sort(byM, (x, y) -> Float.compare(Math.abs(weight[row * in + x]) * actNorm[x],
                    Math.abs(weight[row * in + y]) * actNorm[y]));
            Arrays.fill(prunedW, false);
            Arrays.fill(prunedM, false);
            for (int k = 0; k < prune; k++) {
                prunedW[byW[k]] = true;
                prunedM[byM[k]] = true;
            }
            for (int j = 0; j < in; j++) {
                agree += prunedW[j] == prunedM[j] ? 1 : 0;
            }
        }
        return agree / (double) (out * in);
    }

    private static double outlierRatio(float[] values, int times) {
        double sum = 0;
        for (float v : values) {
            sum += v;
        }
        double threshold = times * sum / values.length;
        long n = 0;
        for (float v : values) {
            n += v > threshold ? 1 : 0;
        }
        return n / (double) values.length;
    }

    /** Log-spaced bins from the smallest positive value to the maximum. */
    static Histogram logHistogram(float[] values, int bins) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (float v : values) {
            if (v > 0) {
                lo = Math.min(lo, v);
            }
            hi = Math.max(hi, v);
        }
        double[] edges = new double[bins + 1];
        for (int k = 0; k <= bins; k++) {
            edges[k] = Math.pow(10, Math.log10(lo) + k * (Math.log10(hi) - Math.log10(lo)) / bins);
        }
        long[] counts = new long[bins];
        for (float v : values) {
            if (v > 0) {
                int k = (int) Math.floor((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * bins);
                counts[Math.max(0, Math.min(bins - 1, k))]++;
            }
        }
        return Histogram.of(edges, counts);
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }
}
