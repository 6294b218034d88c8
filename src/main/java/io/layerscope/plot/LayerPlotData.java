package io.layerscope.plot;

import io.layerscope.stats.Histogram;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the 9-panel picture of one layer shows, already computed by the caller: the reduced
 * heatmaps, the activation norm per input feature, three histograms and three ordered tables of
 * formatted statistics (label to value, drawn in the given order). Immutable; arrays and maps are
 * copied in, and the array accessor copies out.
 *
 * <pre>{@code
 * LayerPlotData data = LayerPlotData.builder()
 *     .model("meta-llama/Llama-3.2-1B").layer("model.layers.0.mlp.down_proj").shape(2048, 8192)
 *     .calibration(new CalibrationSummary("c4", 128, 2048, 0))
 *     .heatmaps(new BlockMaxReduction().layerHeatmaps(weight, 2048, 8192, actNorm))
 *     .activationNorm(actNorm)
 *     .weight(weightHistogram, weightStats)          // |W|
 *     .activation(actNormHistogram, actNormStats)    // activation norm
 *     .wanda(wandaHistogram, wandaStats)             // Wanda metric, plus mask agreements, outliers
 *     .build();
 * }</pre>
 *
 * @param model model id or directory name, for the title
 * @param layer full layer name, e.g. {@code model.layers.0.self_attn.q_proj}
 * @param outFeatures rows of the weight
 * @param inFeatures columns of the weight
 * @param calibration how the activations were obtained
 * @param heatmaps reduced |W| and Wanda heatmaps of the {@code [out, in]} weight
 * @param activationNorm {@code sqrt(scaler_row)}, one value per input feature
 * @param weightHistogram histogram of |W|
 * @param activationHistogram histogram of the activation norm
 * @param wandaHistogram histogram of the Wanda metric
 * @param weightStatistics text panel of the |W| row
 * @param activationStatistics text panel of the activation row
 * @param wandaStatistics text panel of the Wanda row
 */
public record LayerPlotData(
        String model,
        String layer,
        int outFeatures,
        int inFeatures,
        CalibrationSummary calibration,
        LayerHeatmaps heatmaps,
        float[] activationNorm,
        Histogram weightHistogram,
        Histogram activationHistogram,
        Histogram wandaHistogram,
        Map<String, String> weightStatistics,
        Map<String, String> activationStatistics,
        Map<String, String> wandaStatistics) {

    public LayerPlotData {
        require(model, "model");
        require(layer, "layer");
        require(calibration, "calibration");
        require(heatmaps, "heatmaps");
        require(activationNorm, "activationNorm");
        require(weightHistogram, "weight histogram");
        require(activationHistogram, "activation histogram");
        require(wandaHistogram, "wanda histogram");
        if (model.isBlank() || layer.isBlank()) {
            throw new IllegalArgumentException("layer plot: model and layer names must not be blank (model '" + model
                    + "', layer '" + layer + "')");
        }
        if (outFeatures < 1 || inFeatures < 1) {
            throw new IllegalArgumentException("layer plot of " + layer + ": shape " + outFeatures + " x " + inFeatures
                    + " must be at least 1 x 1");
        }
        checkGrid(layer, "|W| heatmap", heatmaps.weightAbs(), outFeatures, inFeatures);
        checkGrid(layer, "Wanda heatmap", heatmaps.wanda(), outFeatures, inFeatures);
        if (activationNorm.length != inFeatures) {
            throw new IllegalArgumentException("layer plot of " + layer + ": the activation norm has " + activationNorm.length
                    + " values but the layer has " + inFeatures + " input features");
        }
        activationNorm = activationNorm.clone();
        weightStatistics = ordered(weightStatistics, "weight statistics");
        activationStatistics = ordered(activationStatistics, "activation statistics");
        wandaStatistics = ordered(wandaStatistics, "wanda statistics");
    }

    /** A builder; every setter must be called once before {@link Builder#build()}. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public float[] activationNorm() {
        return activationNorm.clone();
    }

    /** Activation norm of input feature {@code j}, without copying the array. */
    public float activationNorm(int j) {
        return activationNorm[j];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerPlotData d && model.equals(d.model) && layer.equals(d.layer)
                && outFeatures == d.outFeatures && inFeatures == d.inFeatures && calibration.equals(d.calibration)
                && heatmaps.equals(d.heatmaps) && java.util.Arrays.equals(activationNorm, d.activationNorm)
                && weightHistogram.equals(d.weightHistogram) && activationHistogram.equals(d.activationHistogram)
                && wandaHistogram.equals(d.wandaHistogram) && weightStatistics.equals(d.weightStatistics)
                && activationStatistics.equals(d.activationStatistics) && wandaStatistics.equals(d.wandaStatistics);
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, layer, outFeatures, inFeatures, heatmaps);
    }

    @Override
    public String toString() {
        return "LayerPlotData[" + model + " " + layer + " " + outFeatures + " x " + inFeatures + "]";
    }

    private static void require(Object value, String what) {
        if (value == null) {
            throw new IllegalStateException("layer plot: the " + what + " is missing; set it before building");
        }
    }

    private static void checkGrid(String layer, String what, ReducedMatrix m, int out, int in) {
        long rows = (out + (long) m.rowBlock() - 1) / m.rowBlock();
        long cols = (in + (long) m.colBlock() - 1) / m.colBlock();
        if (m.rows() != rows || m.cols() != cols) {
            throw new IllegalArgumentException("layer plot of " + layer + ": the " + what + " has " + m.rows() + " x "
                    + m.cols() + " cells of " + m.rowBlock() + " x " + m.colBlock() + ", which does not cover the "
                    + out + " x " + in + " weight (expected " + rows + " x " + cols + " cells)");
        }
    }

    private static Map<String, String> ordered(Map<String, String> stats, String what) {
        require(stats, what);
        Map<String, String> copy = new LinkedHashMap<>();
        stats.forEach((k, v) -> {
            if (k == null || v == null) {
                throw new IllegalArgumentException("layer plot: the " + what + " hold a null label or value (" + k + " = "
                        + v + ")");
            }
            copy.put(k, v);
        });
        return Collections.unmodifiableMap(copy);
    }

    /** Collects the parts of a {@link LayerPlotData}; see the class example. */
    public static final class Builder {
        private String model;
        private String layer;
        private int outFeatures;
        private int inFeatures;
        private CalibrationSummary calibration;
        private LayerHeatmaps heatmaps;
        private float[] activationNorm;
        private Histogram weightHistogram;
        private Histogram activationHistogram;
        private Histogram wandaHistogram;
        private Map<String, String> weightStatistics;
        private Map<String, String> activationStatistics;
        private Map<String, String> wandaStatistics;

        private Builder() {
        }

        public Builder model(String model) {
            this.model = model;
            return this;
        }

        public Builder layer(String layer) {
            this.layer = layer;
            return this;
        }

        /** Weight shape {@code [out, in]}. */
        public Builder shape(int outFeatures, int inFeatures) {
            this.outFeatures = outFeatures;
            this.inFeatures = inFeatures;
            return this;
        }

        public Builder calibration(CalibrationSummary calibration) {
            this.calibration = calibration;
            return this;
        }

        public Builder heatmaps(LayerHeatmaps heatmaps) {
            this.heatmaps = heatmaps;
            return this;
        }

        public Builder activationNorm(float[] activationNorm) {
            this.activationNorm = activationNorm;
            return this;
        }

        /** Row 1, weight magnitude |W|: histogram and ordered statistics. */
        public Builder weight(Histogram histogram, Map<String, String> statistics) {
            this.weightHistogram = histogram;
            this.weightStatistics = statistics;
            return this;
        }

        /** Row 2, activation norm: histogram and ordered statistics. */
        public Builder activation(Histogram histogram, Map<String, String> statistics) {
            this.activationHistogram = histogram;
            this.activationStatistics = statistics;
            return this;
        }

        /** Row 3, Wanda metric: histogram and ordered statistics (mask agreements, outlier ratios...). */
        public Builder wanda(Histogram histogram, Map<String, String> statistics) {
            this.wandaHistogram = histogram;
            this.wandaStatistics = statistics;
            return this;
        }

        public LayerPlotData build() {
            return new LayerPlotData(model, layer, outFeatures, inFeatures, calibration, heatmaps, activationNorm,
                    weightHistogram, activationHistogram, wandaHistogram, weightStatistics, activationStatistics,
                    wandaStatistics);
        }
    }
}
