package io.layerscope.results;

import io.layerscope.model.PrunableLayer;
import io.layerscope.stats.LayerStats;
import java.io.Serializable;

/**
 * What the per-layer stage returns to the driver for one layer: its statistics, the scaler_row it
 * used, the PNG bytes (null with --no-png) and the seconds spent.
 */
public record LayerResult(PrunableLayer layer, LayerStats stats, float[] scalerRow, long nsamples, long ntokens,
                          byte[] png, byte[] thumbnail, double seconds) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The PNG's file name, as the Python tool named it. */
    public String pngName() {
        return pngName(layer.name());
    }

    /** The PNG file name of the layer named {@code layer}. */
    public static String pngName(String layer) {
        return "layer_analysis_" + layer + ".png";
    }
}
