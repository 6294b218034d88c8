package io.layerscope.results;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The report's table heads each reported column of layers.parquet by what it holds. */
class ReportedColumnsTest {
    @Test
    void eachMeanIsHeadedByItsOwnMetric() {
        Map<String, String> headings = new LinkedHashMap<>();
        for (Column<LayersTable.Source> c : LayersTable.TABLE.columns()) {
            if (c.display() != null && c.name().endsWith("_mean")) {
                headings.put(c.name(), c.display().label());
            }
        }
        // the RIA mean was once headed "act norm mean", as every mean but Wanda's was
        assertEquals(Map.of("act_norm_mean", "act norm mean", "wanda_mean", "Wanda mean", "ria_mean", "RIA mean"), headings);
    }
}
