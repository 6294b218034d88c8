package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep whose executors cannot load layerscope's classes (LAYERSCOPE_EXECUTOR_JAR=none on nodes
 * without the jar): against a standalone cluster of separate processes whose executors have Spark
 * but not layerscope, the driver (a JVM of its own, which has it) must end with the user error that
 * names the class, status 2 and no results directory; not with Spark's job abort. This checks
 * {@code MissingExecutorJar}'s reading of the message Spark really sends.
 */
class MissingExecutorJarIT {
    private static final Pattern ERROR = Pattern.compile("error: the executors cannot load layerscope's classes"
            + " \\(io\\.layerscope\\.[\\w.$]+ is not on their class path\\): they lack the application jar\\. With"
            + " LAYERSCOPE_EXECUTOR_JAR=none each executor's class path must hold it .*\\(docs/CLUSTER\\.md\\)");

    @TempDir
    Path tmp;

    @Test
    void executorsWithoutTheJarEndTheSweepWithAUserError() throws Exception {
        Path out = tmp.resolve("results/run");
        try (StandaloneCluster cluster = StandaloneCluster.startWithoutLayerscope(
                Files.createDirectories(tmp.resolve("cluster")), 1, 1)) {
            Path log = tmp.resolve("driver.log");
            Process driver = ChildJvm.start(List.of(ChildJvm.layerscopeLogging(), "-Dspark.master=" + cluster.masterUrl(),
                    "-Dspark.executor.memory=1g"), "io.layerscope.cli.Main",
                    List.of("sweep", "--model", "demo", "--cache-dir", tmp.resolve("cache").toString(), "--no-png",
                            "--nsamples", "4", "--seqlen", "64", "--out", out.toString()), Map.of(), log);
            ChildJvm.awaitExit(driver, 240, "the sweep");
            String output = Files.readString(log);
            assertEquals(2, driver.exitValue(), output);
            List<String> errors = output.lines().filter(l -> l.startsWith("error: ")).toList();
            assertEquals(1, errors.size(), output);
            assertTrue(ERROR.matcher(errors.get(0)).matches(), errors.get(0));
            assertFalse(Files.exists(out));
            try (Stream<Path> left = Files.list(out.getParent())) {
                assertEquals(List.of(), left.toList(), "left beside " + out);
            }
        }
    }
}
