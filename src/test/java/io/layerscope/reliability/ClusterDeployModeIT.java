package io.layerscope.reliability;

import static io.layerscope.reliability.TestSparkDistribution.submit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.reliability.TestSparkDistribution.Finished;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./submit.sh ... --deploy-mode cluster} against a standalone cluster of separate processes:
 * the driver runs on the Worker, in a directory Spark makes for it. A relative {@code --out} must
 * still land where it was given, and the script's exit status must follow the driver's final state,
 * which Spark's client prints but does not return (it exits 0 for any state), also through a Spark
 * distribution whose log4j configuration hides that line.
 */
class ClusterDeployModeIT {
    private static final Pattern FAILED = Pattern.compile(
            "layerscope: the driver (driver-[0-9-]+) ended FAILED on the cluster; its output is on the Worker that ran it,"
                    + " in \\1/stderr under the Worker's work directory \\(the Master's web UI links it\\)\\.\n$");

    /** A distribution's log4j configuration as an administrator may have set it: warnings only. */
    private static final String QUIET_LOG4J = """
            rootLogger.level = warn
            rootLogger.appenderRef.stdout.ref = console
            appender.console.type = Console
            appender.console.name = console
            appender.console.target = SYSTEM_ERR
            appender.console.layout.type = PatternLayout
            appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
            """;

    @TempDir
    Path tmp;

    @Test
    void theDriverOnAWorkerWritesWhereToldAndItsFailureIsTheScriptsStatus() throws Exception {
        Path repo = TestSparkDistribution.launchFiles(tmp);
        Path cwd = Files.createDirectories(tmp.resolve("cwd"));
        // one Worker, 2 cores and 2 GB: one of each for the driver, the rest for an executor
        try (StandaloneCluster cluster = StandaloneCluster.start(Files.createDirectories(tmp.resolve("cluster")), 1, 2)) {
            Finished ok = submit(repo, cwd, Map.of(), "sweep", "--model", "demo", "--cache-dir", "cache", "--out",
                    "rel/out", "--no-png", "--nsamples", "8", "--master", cluster.masterUrl(), "--deploy-mode", "cluster",
                    "--driver-memory", "1g");
            assertEquals(0, ok.status(), ok.output());
            assertTrue(ok.output().contains(" is FINISHED, exiting spark-submit JVM."), ok.output());
            assertTrue(Files.exists(cwd.resolve("rel/out/layers.parquet")), "results where --out said, relative to here");
            assertTrue(Files.isDirectory(cwd.resolve("cache")), "the demo model in the --cache-dir given here");

            String missing = tmp.resolve("no/such/model").toString();
            Finished failed = submit(repo, cwd, Map.of(), "sweep", "--model", missing, "--out", "rel/failed",
                    "--master", cluster.masterUrl(), "--deploy-mode", "cluster", "--driver-memory", "1g");
            assertEquals(1, failed.status(), failed.output());
            Matcher m = FAILED.matcher(failed.output());
            assertTrue(m.find(), failed.output());
            assertFalse(Files.exists(cwd.resolve("rel/failed")));
            // the log named holds the driver's own error
            Path driverLog = tmp.resolve("cluster/work-0").resolve(m.group(1)).resolve("stderr");
            String driverOutput = Files.readString(driverLog).replaceAll("Launch Command: .*", "");
            assertTrue(driverOutput.contains("error: --model " + missing + ": no such directory"), driverOutput);

            // through a Spark distribution whose own log4j configuration hides INFO: the client's state
            // line must still reach the script
            Path dist = TestSparkDistribution.create(tmp, QUIET_LOG4J);
            Finished quiet = submit(repo, cwd, Map.of("SPARK_HOME", dist.toString()), "sweep", "--model", missing,
                    "--out", "rel/quiet", "--master", cluster.masterUrl(), "--deploy-mode", "cluster", "--driver-memory", "1g");
            assertEquals(1, quiet.status(), quiet.output());
            assertTrue(FAILED.matcher(quiet.output()).find(), quiet.output());
            // the distribution's configuration still holds for the rest of Spark
            assertTrue(quiet.output().lines().filter(l -> l.contains(" INFO "))
                    .allMatch(l -> l.contains(" ClientEndpoint: ")), quiet.output());
            assertFalse(Files.exists(cwd.resolve("rel/quiet")));
        }
    }
}
