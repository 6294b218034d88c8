package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In local mode with a Gram budget for one task at a time, the lone Gram task runs libtorch on the
 * cores the other slots leave idle, and hands them back: the per-layer tasks after it run on one
 * thread each again. A JVM of its own, set up as submit.sh sets one up (one libtorch thread per
 * task slot), since the test JVM's threads are set otherwise.
 */
class GramPassThreadsIT {
    @TempDir
    Path tmp;

    @Test
    void theLoneGramTaskTakesTheIdleCoresAndGivesThemBack() throws Exception {
        Path counts = tmp.resolve("threads.txt");
        Path log = tmp.resolve("sweep.log");
        Path out = tmp.resolve("results");
        // the demo model's down_proj inputs are 344 wide: 925 KiB matrices, one a pass in 1 MiB
        List<String> args = List.of("sweep", "--model", "demo", "--cache-dir", DemoCache.dir().toString(),
                "--nsamples", "4", "--seqlen", "64", "--no-png", "--gram", "--gram-memory", "1m",
                "--layers", "mlp\\.down_proj$", "--out", out.toString());
        Process p = ChildJvm.start(List.of(ChildJvm.layerscopeLogging(), "-Xmx1g", "-Dspark.master=local[2]",
                        "-Dspark.layerscope.hook=" + LibtorchThreadCounts.class.getName(),
                        "-D" + LibtorchThreadCounts.CONF + "=" + counts),
                "io.layerscope.cli.Main", args, Map.of(), log);
        ChildJvm.awaitExit(p, 300, "the sweep");
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("--gram: the Gram passes run 1 task at a time, not 2: "), output);
        assertTrue(output.contains(" passes (1.00 MiB a pass, 1 task per executor, 2 libtorch threads each)"), output);
        Map<String, TreeSet<String>> seen = new TreeMap<>();
        List<String> lines = Files.readAllLines(counts);
        for (String line : lines) {
            String[] f = line.split(" ");
            seen.computeIfAbsent(f[0], k -> new TreeSet<>()).add(f[1]);
        }
        assertEquals(Map.of("gram", new TreeSet<>(List.of("2")), "layer", new TreeSet<>(List.of("1"))), seen,
                String.join("\n", lines));
        assertTrue(Files.isDirectory(out.resolve("layers.parquet")), output);
        JsonNode gram = new ObjectMapper().readTree(out.resolve("run.json").toFile()).get("gram");
        assertEquals(1, gram.get("tasksPerExecutor").asInt());
        assertEquals(2, gram.get("libtorchThreadsPerTask").asInt());
    }
}
