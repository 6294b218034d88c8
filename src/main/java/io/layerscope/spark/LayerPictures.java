package io.layerscope.spark;

import io.layerscope.model.PrunableLayer;
import io.layerscope.plot.BlockMaxReduction;
import io.layerscope.plot.CalibrationSummary;
import io.layerscope.plot.LayerAnalysisChart;
import io.layerscope.plot.LayerHeatmaps;
import io.layerscope.plot.LayerPlotData;
import io.layerscope.plot.PictureSize;
import io.layerscope.report.SweepReport;
import io.layerscope.stats.Distribution;
import io.layerscope.stats.LayerByProducts;
import io.layerscope.stats.LayerStats;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The 9-panel picture of one layer and its thumbnail for the report, from its weight and statistics (the per-layer stage calls it). */
final class LayerPictures {
    private LayerPictures() {
    }

    /**
     * The picture and thumbnail; {@code heatmaps} as {@link #heatmaps(LayerByProducts)} made them
     * with the statistics, or null to reduce {@code weight} here.
     */
    static LayerAnalysisChart.Pngs render(String model, PrunableLayer layer, float[] weight, LayerStats s,
                                          LayerHeatmaps heatmaps, CalibrationSummary calibration, long nsamples,
                                          PictureSize size) {
        float[] actNorm = s.activationNorms();
        LayerPlotData data = LayerPlotData.builder()
                .model(model)
                .layer(layer.name())
                .shape(layer.outFeatures(), layer.inFeatures())
                .calibration(calibration)
                .heatmaps(heatmaps != null ? heatmaps
                        : new BlockMaxReduction().layerHeatmaps(weight, layer.outFeatures(), layer.inFeatures(), actNorm))
                .activationNorm(actNorm)
                .weight(s.weightAbs().histogram(), panel(s.weightAbs(), layer, nsamples))
                .activation(s.actNorm().histogram(), vectorPanel(s.actNorm(), layer, nsamples))
                .wanda(s.wanda().histogram(), wandaPanel(s, layer, nsamples))
                .build();
        return new LayerAnalysisChart(size.width(), size.height()).renderPngs(data, SweepReport.THUMBNAIL_WIDTH);
    }

    /** The heatmaps from the block maxima the statistics took ({@link LayerStage#byProducts}), or null when they took none. */
    static LayerHeatmaps heatmaps(LayerByProducts b) {
        if (!b.hasBlockMaxima()) {
            return null;
        }
        return BlockMaxReduction.heatmaps(b);
    }

    static Map<String, String> panel(Distribution d, PrunableLayer layer, long nsamples) {
        var m = d.summary();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("mean", num(m.mean()));
        p.put("std", num(m.std()));
        p.put("min", num(m.min()));
        p.put("max", num(m.max()));
        p.put("median", num(m.median()));
        p.put("p99", num(m.p99()));
        p.put("shape", layer.outFeatures() + " x " + layer.inFeatures());
        p.put("nsamples", Long.toString(nsamples));
        return p;
    }

    /** The activation norms' panel: one value per input feature, so its shape is in_features, not the weight's. */
    static Map<String, String> vectorPanel(Distribution d, PrunableLayer layer, long nsamples) {
        Map<String, String> p = panel(d, layer, nsamples);
        p.put("shape", Integer.toString(layer.inFeatures()));
        return p;
    }

    static Map<String, String> wandaPanel(LayerStats s, PrunableLayer layer, long nsamples) {
        Map<String, String> p = panel(s.wanda(), layer, nsamples);
        // the row and layer masks are built at the layer's sparsity (OWL's or a round's may not be --sparsity)
        p.put("masks at sparsity", String.format(Locale.ROOT, "%.4f", s.masks().sparsity()));
        p.put("agree vs magnitude (row)", String.format(Locale.ROOT, "%.4f", s.masks().row()));
        p.put("agree vs magnitude (layer)", String.format(Locale.ROOT, "%.4f", s.masks().layer()));
        p.put("agree vs magnitude (2:4)", String.format(Locale.ROOT, "%.4f", s.masks().twoOfFour()));
        p.put("outliers > 5x mean", String.format(Locale.ROOT, "%.5f", s.outliers().m5()));
        return p;
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }
}
