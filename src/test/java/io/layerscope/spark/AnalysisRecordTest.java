package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerscope.prune.Allocation;
import io.layerscope.prune.PruneMode;
import io.layerscope.prune.SparsityPattern;
import org.junit.jupiter.api.Test;

/** run.json records the analysis options in words and reads them back (query, --overwrite, tools). */
class AnalysisRecordTest {
    @Test
    void theAnalysisOptionsRoundTripThroughRunJson() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JobOptions.Analysis a = new JobOptions.Analysis("mlp", false, 0.6, PruneMode.SEQUENTIAL, new SparsityPattern(2, 4),
                new Allocation(Allocation.Kind.OWL, 7, 0.1));
        String text = json.writeValueAsString(a);
        assertEquals("{\"layers\":\"mlp\",\"exactLayer\":false,\"sparsity\":0.6,\"mode\":\"sequential\",\"pattern\":\"2:4\","
                + "\"allocation\":{\"kind\":\"owl\",\"owlM\":7.0,\"lambda\":0.1},\"outlierBlockShare\":0.25,"
                + "\"outlierPositionShare\":0.06,\"gram\":false,\"gramMemory\":4294967296,\"statsDevice\":\"auto\","
                + "\"depth\":true}", text);
        assertEquals(a, json.readValue(text, JobOptions.Analysis.class));
        JobOptions.Analysis device = a.withStatsDevice(StatsDevice.DEVICE);
        assertEquals(device, json.readValue(json.writeValueAsString(device), JobOptions.Analysis.class));
        // run.json from before --stats-device and --no-depth reads back with their defaults
        assertEquals(a, json.readValue(text.replace(",\"statsDevice\":\"auto\",\"depth\":true", ""),
                JobOptions.Analysis.class));
        JobOptions.Analysis noDepth = a.withDepth(false);
        assertEquals(false, noDepth.depth());
        String without = json.writeValueAsString(noDepth);
        assertEquals(text.replace("\"depth\":true", "\"depth\":false"), without);
        assertEquals(noDepth, json.readValue(without, JobOptions.Analysis.class));
        assertEquals(false, noDepth.withGram(true, 1).withStatsDevice(StatsDevice.JAVA).depth());
        JobOptions.Analysis dense = JobOptions.Analysis.dense(null, false, 0.5);
        assertEquals(dense, json.readValue(json.writeValueAsString(dense), JobOptions.Analysis.class));
    }
}
