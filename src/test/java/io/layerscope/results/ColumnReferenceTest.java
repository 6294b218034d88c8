package io.layerscope.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The column definitions are complete and docs/METRICS.md lists them as they are. To rewrite the
 * document's reference after changing a column: {@code mvn test -Dtest=ColumnReferenceTest -Dlayerscope.updateDocs=true}.
 */
class ColumnReferenceTest {
    private static final Path METRICS = Path.of(System.getProperty("layerscope.repo", ".")).resolve("docs/METRICS.md");

    @Test
    void everyColumnHasAPlainNameAndADescription() {
        Set<String> tables = new HashSet<>();
        for (Table<?> t : ResultTables.ALL) {
            assertTrue(tables.add(t.name()), "table " + t.name() + " twice");
            for (Column<?> c : t.columns()) {
                assertTrue(c.name().matches("[a-z][a-z0-9_]*"), t.name() + "." + c.name() + " is not a plain identifier");
                assertFalse(c.description().isBlank(), t.name() + "." + c.name() + " has no description");
                assertEquals(c.name(), t.schema().apply(c.name()).name());
            }
        }
        assertEquals(Set.of("layers", "activation_norms", "calibration", "blocks", "block_distances", "super_weights",
                "outlier_features"), tables);
    }

    @Test
    void metricsMdListsEveryColumnAsDefined() throws Exception {
        String doc = Files.readString(METRICS);
        String expected = ColumnReference.update(doc);
        if (Boolean.getBoolean("layerscope.updateDocs")) {
            Files.writeString(METRICS, expected);
            doc = expected;
        }
        assertEquals(expected, doc, "docs/METRICS.md's column reference is out of date; rewrite it with"
                + " mvn test -Dtest=ColumnReferenceTest -Dlayerscope.updateDocs=true");
        for (Table<?> t : ResultTables.ALL) {
            for (Column<?> c : t.columns()) {
                assertTrue(doc.contains("| `" + c.name() + "` |"), c.name() + " missing from docs/METRICS.md");
            }
        }
    }
}
