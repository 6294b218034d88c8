package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import io.layerscope.spark.ResultsQuery;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shell's .schema of a table the results lack: refused with the tables there are, before Spark is asked. */
class QuerySessionTest {
    @TempDir
    Path tmp;

    @Test
    void theSchemaOfAnUnknownTableNamesTheTables() throws Exception {
        // a results directory as far as listing goes: run.json and table directories, no Parquet read
        Files.writeString(tmp.resolve("run.json"), "{}");
        Files.createDirectory(tmp.resolve("layers.parquet"));
        Files.createDirectory(tmp.resolve("blocks.parquet"));
        // no Spark session: the refusal must come before any use of it
        QuerySession session = new QuerySession(null, ResultsQuery.views(null, List.of(tmp)), false);
        StringWriter out = new StringWriter();
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> session.printSchema("layer", new PrintWriter(out)));
        assertEquals("no table named layer; the tables are blocks, layers", e.getMessage());
        assertEquals("", out.toString());
    }
}
