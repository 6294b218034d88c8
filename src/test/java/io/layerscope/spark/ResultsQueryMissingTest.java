package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.LayerscopeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A missing results directory whose earlier version a killed job left aside: the message says where it is. */
class ResultsQueryMissingTest {

    /** A file given as the results (run.json itself, say) is not said to be missing. */
    @Test
    void aFileIsNotAMissingDirectory(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("run.json"), "{}");
        assertEquals("results directory " + file + " is a file, not a directory; give the --out directory of a sweep"
                + " or layer job (the directory that holds run.json)", refusal(file));
    }

    @Test
    void aMissingDirectoryWithItsEarlierVersionAsideSaysWhere(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("ow");
        assertEquals("results directory " + dir + " does not exist; give the --out directory of a sweep or layer job",
                refusal(dir));
        Files.createDirectories(tmp.resolve(".ow.replaced-0123abcd"));
        Files.createDirectories(tmp.resolve(".other.replaced-89abcdef"));   // another directory's: not named
        assertEquals("results directory " + dir + " does not exist; a job that stopped while replacing it left the earlier"
                + " results beside it in .ow.replaced-0123abcd: the next job with this --out puts them back, or rename that"
                + " directory to ow", refusal(dir));
        Files.createDirectories(tmp.resolve(".ow.replaced-00000001"));
        assertEquals("results directory " + dir + " does not exist; jobs that stopped while replacing it left earlier"
                + " results beside it in [.ow.replaced-00000001, .ow.replaced-0123abcd]: rename the one to keep to ow",
                refusal(dir));
    }

    private static String refusal(Path dir) {
        return assertThrows(LayerscopeException.class, () -> ResultsQuery.checkDirectories(List.of(dir))).getMessage();
    }
}
