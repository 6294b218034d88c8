package io.layerscope.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.fixtures.ReferencePython;
import io.layerscope.spark.SparkSessions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.Test;

/**
 * Every column of every table can be written unquoted: in Spark SQL with ANSI reserved keywords
 * enforced, and in Python (pandas' {@code df.query}, {@code itertuples}). DuckDB, whose reserved
 * words differ again, reads every column unquoted in ResultsReadByDuckDbIT.
 */
class ColumnNamesTest {
    static List<String> allColumns() {
        List<String> names = new ArrayList<>();
        for (Table<?> t : ResultTables.ALL) {
            for (StructField f : t.schema().fields()) {
                names.add(f.name());
            }
        }
        return names;
    }

    @Test
    void sparkSqlWithReservedKeywordsEnforcedSelectsEveryColumnUnquoted() {
        SparkSession strict = SparkSessions.getOrCreate("test").newSession();
        strict.conf().set("spark.sql.ansi.enabled", "true");
        strict.conf().set("spark.sql.ansi.enforceReservedKeywords", "true");
        for (Table<?> t : ResultTables.ALL) {
            strict.createDataFrame(List.of(), t.schema()).createOrReplaceTempView(t.name());
            // one statement per table: the parser refuses it if any one name is a reserved word
            List<String> names = Arrays.asList(t.schema().fieldNames());
            assertEquals(names, List.of(strict.sql("SELECT " + String.join(", ", names) + " FROM " + t.name()).columns()),
                    t.name());
        }
        // the check can fail: the old column name is reserved there
        strict.createDataFrame(List.of(), new org.apache.spark.sql.types.StructType()
                .add("group", org.apache.spark.sql.types.DataTypes.StringType)).createOrReplaceTempView("old");
        assertThrows(Exception.class, () -> strict.sql("SELECT group FROM old"));
    }

    @Test
    void everyColumnIsAPythonIdentifierAndNoKeyword() {
        String script = "import keyword, sys\n"
                + "for n in sys.argv[1:]:\n"
                + "    if not n.isidentifier() or keyword.iskeyword(n) or keyword.issoftkeyword(n):\n"
                + "        print(n)\n";
        List<String> names = allColumns();
        assertTrue(names.containsAll(Set.of("layer_group", "run_id")));
        assertEquals("", ReferencePython.run(script, names.toArray(String[]::new)));
        assertEquals("class\n", ReferencePython.run(script, "layer", "class"));
    }
}
