package io.layerscope.report;

import io.layerscope.plot.BlockSummary;
import io.layerscope.results.DepthTables.OutlierFeatureRow;
import io.layerscope.stats.DepthStatistics.BlockDepth;
import io.layerscope.stats.DepthStatistics.BlockDistance;
import io.layerscope.stats.SuperWeight;
import java.util.List;

/**
 * The rows of the depth tables the report shows (see {@link DepthSection}); {@code prunedStream}
 * when they come from a sequential run's pruned stream rather than the dense model's forward.
 */
public record DepthSummary(List<BlockDepth> blocks, List<BlockDistance> distances, List<SuperWeight> superWeights,
                           List<OutlierFeatureRow> outlierFeatures, boolean prunedStream) {

    /** The tables of a dense run. */
    public DepthSummary(List<BlockDepth> blocks, List<BlockDistance> distances, List<SuperWeight> superWeights,
                        List<OutlierFeatureRow> outlierFeatures) {
        this(blocks, distances, superWeights, outlierFeatures, false);
    }

    /** What the overview's depth panels draw of each block. */
    public List<BlockSummary> overview() {
        return blocks.stream().map(b -> new BlockSummary(b.block(), b.blockInfluence(), b.angularDistanceNext(),
                b.top() == null ? Double.NaN : b.top().abs(), b.massive())).toList();
    }

    /** The overview's depth panels of {@code depth}; none without depth tables. */
    static List<BlockSummary> overview(DepthSummary depth) {
        return depth == null ? List.of() : depth.overview();
    }
}
