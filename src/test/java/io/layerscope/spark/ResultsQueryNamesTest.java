package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What query calls things: the run column tells every results directory apart; tables are Spark's directories. */
class ResultsQueryNamesTest {
    @TempDir
    Path tmp;

    @Test
    void directoriesAreNamedByAsMuchOfTheirPathAsTellsThemApart() {
        assertEquals(List.of("r", "r2"), ResultsQuery.runLabels(List.of(Path.of("/x/r"), Path.of("/x/r2"))));
        // two named demo: their parents tell them apart; a third of another name keeps its own
        assertEquals(List.of("a/demo", "b/demo", "other"),
                ResultsQuery.runLabels(List.of(Path.of("/runs/a/demo"), Path.of("/runs/b/demo"), Path.of("/runs/other"))));
        assertEquals(List.of("x/a/demo", "y/a/demo"),
                ResultsQuery.runLabels(List.of(Path.of("/x/a/demo"), Path.of("/y/a/demo"))));
        // one is the other's tail: the longer grows
        assertEquals(List.of("demo", "a/demo"), ResultsQuery.runLabels(List.of(Path.of("/demo"), Path.of("/a/demo"))));
    }

    @Test
    void tablesAreDirectoriesNamedAsAViewCanBe() throws IOException {
        Files.createDirectory(tmp.resolve("layers.parquet"));
        Files.createDirectory(tmp.resolve("_blocks2.parquet"));
        Files.writeString(tmp.resolve("notes.parquet"), "a user's file of that name");
        Files.createDirectory(tmp.resolve("a b.parquet"));
        Files.createDirectory(tmp.resolve("2x.parquet"));
        Files.createDirectory(tmp.resolve("png"));
        assertEquals(List.of("_blocks2", "layers"), ResultsQuery.tableNames(tmp));
    }
}
