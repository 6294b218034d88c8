package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerscope.cli.MainTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Path options read local paths: file: URIs become paths, other URIs are refused before anything runs. */
class LocalPathConverterTest {
    private final LocalPathConverter converter = new LocalPathConverter();

    @TempDir
    Path tmp;

    @Test
    void pathsAndFileUrisAreLocalPaths() {
        assertEquals(Path.of("results/x"), converter.convert("results/x"));
        assertEquals(Path.of("/data/r"), converter.convert("/data/r"));
        assertEquals(Path.of("/data/r x"), converter.convert("file:///data/r%20x"));
        assertEquals(Path.of("/data/r"), converter.convert("file:/data/r"));
        assertEquals(Path.of("/data/r"), converter.convert("FILE:///data/r"));
        // a colon elsewhere is a name, as before
        assertEquals(Path.of("run:2/x"), converter.convert("run:2/x"));
        // ~ as the shell would have made it, had the option not been written --out=~/x
        Path home = io.layerscope.model.HfCache.home(System.getenv());
        assertEquals(home.resolve("res"), converter.convert("~/res"));
        assertEquals(home, converter.convert("~"));
        assertEquals(Path.of("~user/x"), converter.convert("~user/x"));
        assertEquals(Path.of("a/~/b"), converter.convert("a/~/b"));
    }

    /** --model and --calibration take a path or a name: a path's forms are read as above, names left as they are. */
    @Test
    void pathOrNameOptionsReadFileUrisAndLeaveNames() {
        LocalPathConverter.PathOrName either = new LocalPathConverter.PathOrName();
        assertEquals("/data/models/llama", either.convert("file:///data/models/llama"));
        assertEquals(io.layerscope.model.HfCache.home(System.getenv()).resolve("m").toString(), either.convert("~/m"));
        for (String name : new String[] {"meta-llama/Llama-3.2-1B", "demo", "c4", "c4:3", "c4:0,1,2", "models/x"}) {
            assertEquals(name, either.convert(name));
        }
        // a model page pasted from the browser: the repo id it names
        assertEquals("'https://huggingface.co/meta-llama/Llama-3.2-1B/tree/main' is a web address; layerscope downloads"
                + " from the Hugging Face Hub by repo id (here --model meta-llama/Llama-3.2-1B) and otherwise reads local"
                + " paths", assertThrows(CommandLine.TypeConversionException.class,
                        () -> either.convert("https://huggingface.co/meta-llama/Llama-3.2-1B/tree/main")).getMessage());
        assertEquals("'http://example.com/c4.json.gz' is a web address; layerscope downloads from the Hugging Face Hub"
                + " by repo id (org/name, e.g. --model meta-llama/Llama-3.2-1B; --calibration c4) and otherwise reads"
                + " local paths", assertThrows(CommandLine.TypeConversionException.class,
                        () -> either.convert("http://example.com/c4.json.gz")).getMessage());
    }

    @Test
    void otherUrisAreRefusedWithWhatToDoInstead() {
        CommandLine.TypeConversionException e = assertThrows(CommandLine.TypeConversionException.class,
                () -> converter.convert("s3a://bucket/results"));
        assertEquals("'s3a://bucket/results' is a URI, and layerscope reads and writes paths of the local file system"
                + " (on a cluster, storage mounted at the same path on every node, such as NFS): give such a path (hdfs dfs"
                + " -put and -get copy a directory between one and s3a:)",
                e.getMessage());
        assertEquals("'file://nn/x' is not a file: URI of this machine (URI has an authority component); give the path"
                + " itself, e.g. /data/results", assertThrows(CommandLine.TypeConversionException.class,
                        () -> converter.convert("file://nn/x")).getMessage());
    }

    @Test
    void everyCommandsPathOptionsRefuseUrisWithStatus2AndWriteNothing() throws Exception {
        Path cwd = Path.of("").toAbsolutePath();
        String[][] commands = {
            {"sweep", "--model", "demo", "--out", "hdfs://nn:8020/results/x"},
            {"sweep", "--model", "demo", "--out", tmp.resolve("o").toString(), "--save-pruned", "hdfs://nn/pruned"},
            {"sweep", "--model", "demo", "--out", tmp.resolve("o").toString(), "--imatrix", "gs://b/imatrix.gguf"},
            {"sweep", "--model", "demo", "--out", tmp.resolve("o").toString(), "--calibration-cache", "hdfs://nn/c"},
            {"layer", "--model", "demo", "--layer", "model.layers.0.mlp.down_proj", "--out", "abfss://data.dfs.core.windows.net/x"},
            {"list-layers", "--model", "demo", "--cache-dir", "hdfs://nn/hub"},
            {"list-layers", "--model", "hdfs://nn/models/llama"},
            {"sweep", "--model", "demo", "--out", tmp.resolve("o").toString(), "--calibration", "s3a://bucket/c4"},
            {"query", "--results", "s3a://bucket/results", "SELECT 1"},
        };
        for (String[] args : commands) {
            Run r = MainTest.run(args);
            assertEquals(2, r.status(), String.join(" ", args) + "\n" + r.err());
            String uri = java.util.Arrays.stream(args).filter(a -> a.contains("://")).findFirst().orElseThrow();
            String option = args[java.util.Arrays.asList(args).indexOf(uri) - 1];
            String label = option.equals("--results") ? " (DIR)" : ""; // picocli names a repeatable option's value
            assertEquals("error: Invalid value for option '" + option + "'" + label + ": '" + uri + "' is a URI, and"
                    + " layerscope reads and writes paths of the local file system (on a cluster, storage mounted at the"
                    + " same path on every node, such as NFS): give such a path (hdfs dfs -put and -get copy a directory"
                    + " between one and " + uri.replaceAll(":.*", "") + ":)\nTry 'layerscope " + args[0]
                    + " --help' for more information.\n", r.err());
        }
        for (String name : new String[] {"hdfs:", "s3a:", "gs:", "abfss:"}) {
            assertFalse(Files.exists(cwd.resolve(name)), name);
        }
        assertFalse(Files.exists(tmp.resolve("o")));
    }
}
