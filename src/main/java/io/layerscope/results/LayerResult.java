package io.layerscope.results;

import io.layerscope.stats.TapGram;
import io.layerscope.model.PrunableLayer;
import io.layerscope.stats.LayerStats;
import java.io.Serializable;

/**
 * What the per-layer stage returns to the driver for one layer: its statistics, the scaler_row it
 * used, its picture (null with --no-png), the seconds spent, in sequential mode how it drifted
 * from the dense view (null in dense mode), with --gram what its input's Gram matrix says (else null),
 * when this stage counts them, its entries above its block's OWL thresholds (else null; the
 * driver adds them up into the blocks table and writes them nowhere else), and when asked for, the
 * Wanda-pruned rows of its outlier features' columns (else null; the outlier_features table's shares).
 */
public record LayerResult(PrunableLayer layer, LayerStats stats, float[] scalerRow, long nsamples, long ntokens,
                          LayerPicture picture, double seconds, Drift drift, TapGram tapGram,
                          long[] aboveBlockThresholds, PrunedColumns prunedColumns)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    public LayerResult(PrunableLayer layer, LayerStats stats, float[] scalerRow, long nsamples, long ntokens,
                       byte[] png, byte[] thumbnail, double seconds) {
        this(layer, stats, scalerRow, nsamples, ntokens, png == null && thumbnail == null ? null
                : new LayerPicture(png, thumbnail), seconds, null, null, null, null);
    }

    public LayerResult withDrift(Drift d) {
        return new LayerResult(layer, stats, scalerRow, nsamples, ntokens, picture, seconds, d, tapGram, aboveBlockThresholds, prunedColumns);
    }

    public LayerResult withTapGram(TapGram t) {
        return new LayerResult(layer, stats, scalerRow, nsamples, ntokens, picture, seconds, drift, t, aboveBlockThresholds, prunedColumns);
    }

    public LayerResult withAboveBlockThresholds(long[] counts) {
        return new LayerResult(layer, stats, scalerRow, nsamples, ntokens, picture, seconds, drift, tapGram, counts, prunedColumns);
    }

    public LayerResult withPrunedColumns(PrunedColumns p) {
        return new LayerResult(layer, stats, scalerRow, nsamples, ntokens, picture, seconds, drift, tapGram,
                aboveBlockThresholds, p);
    }

    /** This result with its picture written into the results and its bytes let go. */
    public LayerResult withPictureWritten() {
        return new LayerResult(layer, stats, scalerRow, nsamples, ntokens, picture == null ? null : LayerPicture.WRITTEN,
                seconds, drift, tapGram, aboveBlockThresholds, prunedColumns);
    }

    /** The PNG's file name, as the Python tool named it. */
    public String pngName() {
        return pngName(layer.name());
    }

    /**
     * The PNG file name of the layer named {@code layer}: {@code layer_analysis_<layer>.png}, any
     * character other than letters, digits, '.', '_' and '-' as '_' (a name is never a path).
     */
    public static String pngName(String layer) {
        return "layer_analysis_" + layer.replaceAll("[^A-Za-z0-9._-]", "_") + ".png";
    }
}
