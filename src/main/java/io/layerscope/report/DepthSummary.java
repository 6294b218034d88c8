package io.layerscope.report;

import io.layerscope.results.DepthTables.OutlierFeatureRow;
import io.layerscope.stats.DepthStatistics.BlockDepth;
import io.layerscope.stats.DepthStatistics.BlockDistance;
import io.layerscope.stats.SuperWeight;
import java.util.List;

/** The rows of the depth tables the report shows (see {@link DepthSection}). */
public record DepthSummary(List<BlockDepth> blocks, List<BlockDistance> distances, List<SuperWeight> superWeights,
                           List<OutlierFeatureRow> outlierFeatures) {
}
