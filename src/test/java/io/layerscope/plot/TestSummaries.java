package io.layerscope.plot;

import java.util.LinkedHashMap;
import java.util.Map;

/** Layer summaries for chart and report tests, with the reported {@code layers} columns named once. */
public final class TestSummaries {
    private TestSummaries() {
    }

    /** A summary holding the eight numbers the report table and the overview show. */
    public static LayerSummary of(String layer, int block, String kind, int out, int in, double actNormMean,
                                  double wandaMean, double agreeRow, double agreeLayer, double agree2of4,
                                  double outlierM3, double outlierM5, double outlierM7) {
        Map<String, Double> v = new LinkedHashMap<>();
        v.put("act_norm_mean", actNormMean);
        v.put("wanda_mean", wandaMean);
        v.put("agree_wanda_magnitude_row", agreeRow);
        v.put("agree_wanda_magnitude_layer", agreeLayer);
        v.put("agree_wanda_magnitude_2of4", agree2of4);
        v.put("outlier_ratio_m3", outlierM3);
        v.put("outlier_ratio_m5", outlierM5);
        v.put("outlier_ratio_m7", outlierM7);
        return new LayerSummary(layer, block, kind, out, in, v);
    }

    /** The same layer with one value changed. */
    public static LayerSummary with(LayerSummary s, String column, double value) {
        Map<String, Double> v = new LinkedHashMap<>(s.values());
        v.put(column, value);
        return new LayerSummary(s.layer(), s.block(), s.kind(), s.outFeatures(), s.inFeatures(), v);
    }
}
