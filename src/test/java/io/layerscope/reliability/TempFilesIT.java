package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing is left in the temporary directory after an early failure. The command runs in its own
 * JVM with java.io.tmpdir (and Spark's scratch directory) in a fresh directory, fails, and exits:
 * the directory must be empty. The second case fails just after Spark and the JIT directives were
 * started on background threads, which is when a {@code layerscope-compiler-directives*.json} used
 * to be left behind (the directives are opt-in, so the child JVM asks for them).
 */
class TempFilesIT {
    @TempDir
    Path tmp;

    @Test
    void aBadNsamplesLeavesNothingInTheTemporaryDirectory() throws Exception {
        assertFailsLeavingNoTemporaryFile("error: --nsamples 0 must be at least 1", "--nsamples", "0");
    }

    @Test
    void aFailureAfterSparkStartedLeavesNothingInTheTemporaryDirectory() throws Exception {
        Path blank = Files.writeString(tmp.resolve("blank.jsonl"), "\n\n", StandardCharsets.UTF_8);
        assertFailsLeavingNoTemporaryFile("error: no calibration documents in " + blank + ": the input holds only"
                + " blank lines; use a C4 shard or another non-empty JSON-lines file", "--calibration", blank.toString());
    }

    /**
     * An early failure can land while the model preload is still loading libtorch; the JVM used to
     * abort then in libtorch's initialisers (exit 134, "terminate called after throwing ...") in
     * about 1 run of 25. Repeated, each run must exit with its own status and message, and with
     * nothing after it: Spark's context, still being built when the JVM exits, logged an error from
     * its constructor's clean-up in about 1 run of 2 with the Llama 3 tokenizer's slower start.
     */
    @Test
    void anEarlyFailureDuringTheModelPreloadExitsCleanlyEveryTime() throws Exception {
        Path blank = Files.writeString(tmp.resolve("blank.jsonl"), "\n\n", StandardCharsets.UTF_8);
        for (int run = 0; run < 6; run++) {
            assertFailsLeavingNoTemporaryFile("error: no calibration documents in " + blank + ": the input holds only"
                    + " blank lines; use a C4 shard or another non-empty JSON-lines file", "--calibration", blank.toString());
        }
    }

    private void assertFailsLeavingNoTemporaryFile(String expectedError, String... options) throws Exception {
        Path javaTmp = Files.createDirectories(tmp.resolve("java-tmp"));
        Path log = tmp.resolve("run.log");
        List<String> args = new ArrayList<>(List.of("sweep", "--model", "demo", "--cache-dir", DemoCache.dir().toString(),
                "--no-png", "--out", tmp.resolve("results").toString()));
        args.addAll(List.of(options));
        Process p = ChildJvm.start(List.of(ChildJvm.layerscopeLogging(), "-Xmx1g", "-Dspark.master=local[1]",
                "-Djava.io.tmpdir=" + javaTmp, "-Dspark.local.dir=" + javaTmp, "-Dlayerscope.jit=directives"),
                "io.layerscope.cli.Main", args, Map.of(), log);
        ChildJvm.awaitExit(p, 120, "the command");
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(2, p.exitValue(), output);
        assertFalse(output.contains("terminate called"), output);
        assertTrue(output.strip().endsWith(expectedError), output);
        assertEquals(new TreeSet<>(), tree(javaTmp), "left in java.io.tmpdir; the command printed:\n" + output);
    }

    private static TreeSet<String> tree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> !p.equals(root)).map(p -> root.relativize(p).toString())
                    .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
        }
    }
}
