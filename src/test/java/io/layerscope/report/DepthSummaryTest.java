package io.layerscope.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerscope.plot.BlockSummary;
import io.layerscope.stats.DepthStatistics.BlockDepth;
import java.util.List;
import org.junit.jupiter.api.Test;

class DepthSummaryTest {

    @Test
    void theOverviewDrawsEachBlocksInfluenceDistanceAndTopAbs() {
        assertEquals(List.of(new BlockSummary(0, 0.25, 0.3, 1500.0, true), new BlockSummary(1, 0.05, 0.1, 1400.0, true)),
                DepthSectionTest.summary(false).overview());
    }

    @Test
    void aBlockWithoutAPeakHasNoTopAbs() {
        BlockDepth noPeak = new BlockDepth(2, 0.1, 0.2, null, new double[0], Double.NaN, false, null, null);
        DepthSummary depth = new DepthSummary(List.of(noPeak), List.of(), List.of(), List.of());
        assertEquals(List.of(new BlockSummary(2, 0.1, 0.2, Double.NaN, false)), depth.overview());
    }

    @Test
    void noDepthTablesNoDepthPanels() {
        assertEquals(List.of(), DepthSummary.overview(null));
        assertEquals(List.of(), DepthSummary.overview(new DepthSummary(List.of(), List.of(), List.of(), List.of())));
    }
}
