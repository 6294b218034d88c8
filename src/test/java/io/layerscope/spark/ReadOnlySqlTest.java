package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.execution.SparkSqlParser;
import org.junit.jupiter.api.Test;

/** What {@code query} runs without --allow-writes, decided from Spark's parsed plan (no session needed). */
class ReadOnlySqlTest {
    private static final SparkSqlParser PARSER = new SparkSqlParser();

    private static Optional<String> judge(String sql) {
        return ReadOnlySql.whatItChanges(PARSER, sql);
    }

    @Test
    void queriesAndCatalogReadsAreAllowed() {
        for (String sql : new String[] {
            "SELECT layer, wanda_mean FROM layers ORDER BY wanda_mean DESC LIMIT 5",
            "WITH x AS (SELECT * FROM layers) SELECT count(*) FROM x",
            "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
            "SELECT kind, avg(wanda_mean) FROM layers GROUP BY kind HAVING count(*) > 1",
            "SELECT * FROM layers WHERE block IN (SELECT max(block) FROM layers)",
            "SELECT l.layer, a.act_norm FROM layers l JOIN activation_norms a ON l.layer = a.layer",
            "SELECT explode(top_act_features) FROM layers",
            "VALUES (1, 'a')", "TABLE layers", "FROM layers SELECT layer",
            "SELECT * FROM parquet.`/tmp/elsewhere`",
            "DESCRIBE layers", "DESCRIBE layers layer", "DESC FUNCTION abs", "SHOW TABLES", "SHOW VIEWS",
            "SHOW COLUMNS IN layers", "SHOW FUNCTIONS",
            "EXPLAIN SELECT * FROM layers", "DESCRIBE QUERY SELECT * FROM layers",
            "SELECT 1 +",   // does not parse: Spark reports it when it runs
        }) {
            assertEquals(Optional.empty(), judge(sql), sql);
        }
    }

    @Test
    void everyStatementThatWritesOrChangesStateIsNamed() {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("INSERT INTO layers SELECT * FROM layers", "writes or changes state (Spark plans it as InsertIntoStatement)");
        cases.put("INSERT OVERWRITE DIRECTORY '/any/dir' USING parquet SELECT 1",
                "writes or changes state (Spark plans it as InsertIntoDir)");
        cases.put("INSERT OVERWRITE LOCAL DIRECTORY '/any/dir' SELECT 1", "writes or changes state (Spark plans it as InsertIntoDir)");
        cases.put("CREATE TABLE t USING parquet LOCATION '/tmp/t' AS SELECT 1",
                "writes or changes state (Spark plans it as CreateTableAsSelect)");
        cases.put("CREATE TEMPORARY VIEW v AS SELECT 1", "writes or changes state (Spark plans it as CreateViewCommand)");
        cases.put("CREATE TEMPORARY VIEW v USING parquet OPTIONS (path '/tmp')",
                "writes or changes state (Spark plans it as CreateTempViewUsing)");
        cases.put("DROP TABLE t", "writes or changes state (Spark plans it as DropTable)");
        cases.put("DROP VIEW layers", "writes or changes state (Spark plans it as DropView)");
        cases.put("ALTER TABLE t ADD COLUMNS (x INT)", "writes or changes state (Spark plans it as AddColumns)");
        cases.put("TRUNCATE TABLE t", "writes or changes state (Spark plans it as TruncateTable)");
        cases.put("DELETE FROM layers WHERE block = 0", "writes or changes state (Spark plans it as DeleteFromTable)");
        cases.put("UPDATE layers SET block = 0", "writes or changes state (Spark plans it as UpdateTable)");
        cases.put("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE",
                "writes or changes state (Spark plans it as MergeIntoTable)");
        cases.put("CACHE TABLE layers", "writes or changes state (Spark plans it as CacheTable)");
        cases.put("CACHE TABLE c AS SELECT 1", "writes or changes state (Spark plans it as CacheTableAsSelect)");
        cases.put("UNCACHE TABLE layers", "writes or changes state (Spark plans it as UncacheTable)");
        cases.put("CLEAR CACHE", "writes or changes state (Spark plans it as ClearCacheCommand)");
        cases.put("LOAD DATA LOCAL INPATH '/tmp/x' INTO TABLE t", "writes or changes state (Spark plans it as LoadData)");
        cases.put("ADD JAR /tmp/x.jar", "writes or changes state (Spark plans it as AddJarsCommand)");
        cases.put("ADD FILE /tmp/x", "writes or changes state (Spark plans it as AddFilesCommand)");
        cases.put("SET spark.sql.ansi.enabled=false", "writes or changes state (Spark plans it as SetCommand)");
        cases.put("RESET", "writes or changes state (Spark plans it as ResetCommand)");
        cases.put("USE other", "writes or changes state (Spark plans it as SetCatalogAndNamespace)");
        cases.put("CREATE DATABASE d", "writes or changes state (Spark plans it as CreateNamespace)");
        cases.put("CREATE TEMPORARY FUNCTION f AS 'x.Y' USING JAR '/tmp/x.jar'",
                "writes or changes state (Spark plans it as CreateFunctionCommand)");
        cases.put("REFRESH TABLE layers", "writes or changes state (Spark plans it as RefreshTable)");
        cases.put("ANALYZE TABLE layers COMPUTE STATISTICS", "writes or changes state (Spark plans it as AnalyzeTable)");
        cases.put("MSCK REPAIR TABLE t", "writes or changes state (Spark plans it as RepairTable)");
        cases.put("DECLARE v INT", "writes or changes state (Spark plans it as CreateVariable)");
        cases.put("CALL cat.db.proc()", "writes or changes state (Spark plans it as Call)");
        cases.put("EXPLAIN INSERT INTO layers SELECT * FROM layers",
                "writes or changes state (Spark plans it as InsertIntoStatement)");
        cases.put("EXECUTE IMMEDIATE 'DROP TABLE t'",
                "runs SQL made at run time (EXECUTE IMMEDIATE), which cannot be checked");
        cases.put("SELECT TRANSFORM(layer) USING 'rm -rf /' FROM layers", "runs a program (TRANSFORM ... USING)");
        cases.put("WITH x AS (SELECT TRANSFORM(layer) USING 'sh' FROM layers) SELECT * FROM x",
                "runs a program (TRANSFORM ... USING)");
        cases.put("SELECT * FROM layers WHERE layer IN (SELECT TRANSFORM(layer) USING 'sh' FROM layers)",
                "runs a program (TRANSFORM ... USING)");
        cases.put("SELECT reflect('java.lang.System', 'exit', 3)", "calls Java methods (reflect)");
        cases.put("SELECT upper(JAVA_METHOD('java.lang.System', 'getenv', 'HOME'))", "calls Java methods (java_method)");
        cases.put("WITH x AS (SELECT try_reflect('java.lang.System', 'getenv', 'HOME') AS h) SELECT * FROM x",
                "calls Java methods (try_reflect)");
        cases.forEach((sql, what) -> assertEquals(Optional.of(what), judge(sql), sql));
    }
}
