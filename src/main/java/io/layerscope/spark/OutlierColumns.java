package io.layerscope.spark;

import io.layerscope.model.PrunableLayer;
import java.io.Serializable;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The input columns whose Wanda-pruned rows the per-layer statistics count, for the
 * outlier_features table's shares: per tap kind the outlier features' channels where the run knows
 * them before the statistics (dense mode, from stage one), every column where it learns them only
 * after (sequential mode, from its own passes), or none (no depth tables; N:M runs count their own).
 *
 * @param byTap per tap kind ("MLP_ACT"), its channels, each once
 * @param all   every column of every layer instead
 */
record OutlierColumns(Map<String, int[]> byTap, boolean all) implements Serializable {
    private static final long serialVersionUID = 1L;

    static final OutlierColumns NONE = new OutlierColumns(Map.of(), false);
    static final OutlierColumns ALL = new OutlierColumns(Map.of(), true);

    OutlierColumns {
        byTap = Map.copyOf(byTap);
    }

    static OutlierColumns of(Map<String, int[]> byTap) {
        return new OutlierColumns(byTap, false);
    }

    /** The columns of {@code layer} to count, or null for none. */
    int[] of(PrunableLayer layer) {
        return all ? IntStream.range(0, layer.inFeatures()).toArray() : byTap.get(layer.tap().name());
    }
}
