package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What --overwrite may replace: only what layerscope wrote, never a kept path or a directory above one. */
class ReplaceableResultsTest {
    /** The entries a sweep writes, with run.json as RunRecord writes it (its first fields). */
    static Path results(Path dir) throws Exception {
        Path layers = Files.createDirectories(dir.resolve("layers.parquet"));
        for (String f : List.of("part-00000-c5ce4f49-c000.zstd.parquet", ".part-00000-c5ce4f49-c000.zstd.parquet.crc",
                "_SUCCESS", "._SUCCESS.crc")) {
            Files.writeString(layers.resolve(f), "spark");
        }
        Files.createDirectories(dir.resolve("activation_norms.parquet"));
        Files.createDirectories(dir.resolve("png").resolve("thumbs"));
        Files.writeString(dir.resolve("png").resolve("layer_analysis_lm_head.png"), "png");
        Files.writeString(dir.resolve("png").resolve("thumbs").resolve("layer_analysis_lm_head.png"), "png");
        Files.writeString(dir.resolve("index.html"), "<html>");
        Files.writeString(dir.resolve("overview.png"), "png");
        Files.writeString(dir.resolve("run.json"), "{\n  \"tool\" : \"layerscope\",\n  \"toolVersion\" : \"0.1.0\"\n}\n");
        return dir;
    }

    @Test
    void aDirectoryLayerscopeWroteIsReplaceable(@TempDir Path tmp) throws Exception {
        Path r = results(tmp.resolve("r"));
        assertNull(ReplaceableResults.notResults(r));
        ReplaceableResults.check(r, ResultsDirectory.Kind.RESULTS, Map.of());
    }

    @Test
    void anythingElseIsNotAndSaysWhy(@TempDir Path tmp) throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertNull(ReplaceableResults.notResults(empty), "an empty directory has nothing to lose");
        Files.writeString(empty.resolve("notes.txt"), "keep me");
        assertEquals("no run.json", ReplaceableResults.notResults(empty));
        Path foreign = results(tmp.resolve("foreign"));
        Files.writeString(foreign.resolve("run.json"), "{\"tool\": \"something-else\"}");
        assertEquals("run.json was not written by layerscope", ReplaceableResults.notResults(foreign));
        Files.writeString(foreign.resolve("run.json"), "{not json");
        assertEquals("run.json is not valid JSON", ReplaceableResults.notResults(foreign));
        Path noTable = results(tmp.resolve("no-table"));
        io.layerscope.FileTrees.deleteWhatCan(noTable.resolve("layers.parquet"));
        assertEquals("no layers.parquet", ReplaceableResults.notResults(noTable));
        Path extra = results(tmp.resolve("extra"));
        for (String f : List.of("notes.txt", "a.csv", "b", "c", "d", "e", "f")) {
            Files.writeString(extra.resolve(f), "keep me");
        }
        assertEquals("it also holds a.csv, b, c, d, e and 2 more, which layerscope did not write",
                ReplaceableResults.notResults(extra));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), results(tmp.resolve("linked")));
        assertEquals("it is a symbolic link", ReplaceableResults.notResults(link));
    }

    /** A user's file among the tables or the pictures would go with them: the whole tree is checked. */
    @Test
    void whatLiesInsideTheTablesAndPicturesIsCheckedToo(@TempDir Path tmp) throws Exception {
        Path r = results(tmp.resolve("r"));
        Files.writeString(r.resolve("layers.parquet").resolve("NOTES.txt"), "keep me");
        Files.writeString(r.resolve("png").resolve("important.txt"), "keep me");
        Files.createDirectories(r.resolve("png").resolve("thumbs").resolve("mine"));
        Files.createSymbolicLink(r.resolve("png").resolve("cache.png"), tmp);
        Files.createDirectories(r.resolve("mydata.parquet"));
        assertEquals("it also holds layers.parquet/NOTES.txt, mydata.parquet, png/cache.png, png/important.txt,"
                + " png/thumbs/mine, which layerscope did not write", ReplaceableResults.notResults(r));
        Path p = Files.createDirectories(tmp.resolve("pruned"));
        Files.writeString(p.resolve(io.layerscope.prune.PrunedCheckpointWriter.MARKER), "{\"tool\": \"layerscope\"}");
        Files.writeString(p.resolve(io.layerscope.model.Checkpoint.INDEX_FILE), "{}");
        Files.createDirectories(p.resolve("my.safetensors"));
        assertEquals("it also holds my.safetensors, which layerscope did not write", ReplaceableResults.notPrunedCheckpoint(p));
    }

    @Test
    void aKeptPathOrADirectoryAboveOneIsRefusedByName(@TempDir Path tmp) throws Exception {
        Path r = results(tmp.resolve("r"));
        Path model = Files.createDirectories(r.resolve("png").resolve("model"));
        LayerscopeException e = assertThrows(LayerscopeException.class,
                () -> ReplaceableResults.check(r, ResultsDirectory.Kind.RESULTS, Map.of("the model directory " + model, model)));
        assertEquals("--overwrite refuses to replace --out " + r + ": it contains the model directory " + model
                + "; choose another --out", e.getMessage());
        e = assertThrows(LayerscopeException.class,
                () -> ReplaceableResults.check(model, ResultsDirectory.Kind.RESULTS, Map.of("the model directory " + model, model)));
        assertEquals("--overwrite refuses to replace --out " + model + ": it is the model directory " + model
                + "; choose another --out", e.getMessage());
        // another spelling of the same directory: through a symbolic link above it
        Path alias = Files.createSymbolicLink(tmp.resolve("alias"), r);
        e = assertThrows(LayerscopeException.class,
                () -> ReplaceableResults.check(alias.resolve("png"), ResultsDirectory.Kind.RESULTS, Map.of("the model directory " + model, model)));
        assertEquals("--overwrite refuses to replace --out " + alias.resolve("png") + ": it contains the model directory "
                + model + "; choose another --out", e.getMessage());
    }

    @Test
    void theWorkingAndHomeDirectoriesAndTheirParentsAreAlwaysKept() {
        Path cwd = Path.of("").toAbsolutePath();
        for (Path p : List.of(Path.of(""), Path.of("."), cwd.getParent())) {
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> ReplaceableResults.check(p, ResultsDirectory.Kind.RESULTS, Map.of()));
            assertEquals("--overwrite refuses to replace --out " + p + ": it " + (p.equals(cwd.getParent()) ? "contains" : "is")
                    + " the working directory; choose another --out", e.getMessage());
        }
        Path home = Path.of(System.getProperty("user.home"));
        if (!home.toAbsolutePath().normalize().startsWith(cwd) && !cwd.startsWith(home.toAbsolutePath().normalize())) {
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> ReplaceableResults.check(home, ResultsDirectory.Kind.RESULTS, Map.of()));
            assertEquals("--overwrite refuses to replace --out " + home + ": it is your home directory; choose another --out",
                    e.getMessage());
        }
    }
}
