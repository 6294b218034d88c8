package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.prune.Allocation;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** --owl-m and --save-pruned values picocli parses but layerscope refuses, each with its message. */
class AnalysisOptionsTest {
    private static AnalysisOptions owl(String allocation, double m) {
        AnalysisOptions a = new AnalysisOptions();
        a.allocation = allocation;
        a.owlM = m;
        a.owlLambda = Allocation.DEFAULT_LAMBDA;
        return a;
    }

    /** Refused whatever the allocation: M also sets the blocks table's owl_outlier_ratio, which every run writes. */
    @Test
    void anOwlMThatIsNotAPositiveFloatIsRefused() {
        String[][] cases = {{"0", "0.0"}, {"-5", "-5.0"}, {"NaN", "NaN"}, {"Infinity", "Infinity"}, {"1e39", "1.0E39"}};
        for (String allocation : new String[] {"uniform", "owl"}) {
            for (String[] c : cases) {
                LayerscopeException e = assertThrows(LayerscopeException.class,
                        () -> owl(allocation, Double.parseDouble(c[0])).allocation(), allocation + " " + c[0]);
                assertEquals("--owl-m " + c[1] + " must be a positive number up to float32's largest, 3.4028235E38, e.g."
                        + " --owl-m 5", e.getMessage());
            }
        }
        // the largest float32 is still a threshold (the metric is float32); a tiny one too
        assertEquals(Float.MAX_VALUE, owl("owl", Float.MAX_VALUE).allocation().owlM(), 0);
        assertEquals(1e-30, owl("uniform", 1e-30).allocation().owlM(), 0);
    }

    @Test
    void anEmptySavePrunedIsRefused() {
        AnalysisOptions a = new AnalysisOptions();
        assertNull(a.savePruned(), "not given: no pruned model");
        for (String blank : new String[] {"", "  "}) {
            a.savePruned = Path.of(blank);
            LayerscopeException e = assertThrows(LayerscopeException.class, a::savePruned, "\"" + blank + "\"");
            assertEquals("--save-pruned is empty; name the directory for the pruned model", e.getMessage());
        }
        a.savePruned = Path.of("pruned");
        assertEquals(Path.of("pruned"), a.savePruned());
    }
}
