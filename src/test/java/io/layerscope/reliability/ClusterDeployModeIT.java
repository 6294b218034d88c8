package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./submit.sh ... --deploy-mode cluster} against a standalone cluster of separate processes:
 * the driver runs on the Worker, in a directory Spark makes for it. A relative {@code --out} must
 * still land where it was given, and the script's exit status must follow the driver's final state,
 * which Spark's client prints but does not return (it exits 0 for any state). The script runs from a
 * copy of the launch files beside the application jar the build made, so it never rebuilds.
 */
class ClusterDeployModeIT {
    private static final Pattern FAILED = Pattern.compile(
            "layerscope: the driver (driver-[0-9-]+) ended FAILED on the cluster; its output is on the Worker that ran it,"
                    + " in \\1/stderr under the Worker's work directory \\(the Master's web UI links it\\)\\.\n$");

    @TempDir
    Path tmp;

    @Test
    void theDriverOnAWorkerWritesWhereToldAndItsFailureIsTheScriptsStatus() throws Exception {
        Path repo = launchFiles();
        Path cwd = Files.createDirectories(tmp.resolve("cwd"));
        // one Worker, 2 cores and 2 GB: one of each for the driver, the rest for an executor
        try (StandaloneCluster cluster = StandaloneCluster.start(Files.createDirectories(tmp.resolve("cluster")), 1, 2)) {
            Finished ok = submit(repo, cwd, "sweep", "--model", "demo", "--cache-dir", "cache", "--out", "rel/out",
                    "--no-png", "--nsamples", "8", "--master", cluster.masterUrl(), "--deploy-mode", "cluster",
                    "--driver-memory", "1g");
            assertEquals(0, ok.status(), ok.output());
            assertTrue(ok.output().contains(" is FINISHED, exiting spark-submit JVM."), ok.output());
            assertTrue(Files.exists(cwd.resolve("rel/out/layers.parquet")), "results where --out said, relative to here");
            assertTrue(Files.isDirectory(cwd.resolve("cache")), "the demo model in the --cache-dir given here");

            String missing = tmp.resolve("no/such/model").toString();
            Finished failed = submit(repo, cwd, "sweep", "--model", missing, "--out", "rel/failed",
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
            Path dist = quietDistribution();
            Files.createSymbolicLink(repo.resolve("target/layerscope-cluster.jar"), repo.resolve("target/layerscope.jar"));
            Map<String, String> distEnv = Map.of("SPARK_HOME", dist.toString(), "SPARK_SCALA_VERSION", "2.13",
                    "SPARK_DIST_CLASSPATH", StandaloneCluster.libraries());
            Finished quiet = submit(repo, cwd, distEnv, "sweep", "--model", missing, "--out", "rel/quiet", "--master",
                    cluster.masterUrl(), "--deploy-mode", "cluster", "--driver-memory", "1g");
            assertEquals(1, quiet.status(), quiet.output());
            assertTrue(FAILED.matcher(quiet.output()).find(), quiet.output());
            // the distribution's configuration still holds for the rest of Spark
            assertTrue(quiet.output().lines().filter(l -> l.contains(" INFO ")).allMatch(l -> l.contains(" ClientEndpoint: ")),
                    quiet.output());
            assertFalse(Files.exists(cwd.resolve("rel/quiet")));
        }
    }

    /**
     * A Spark distribution as far as submit.sh and Spark's launcher see one: bin/spark-submit builds its
     * command with Spark's own launcher (conf/ on the class path, SPARK_SUBMIT_OPTS parsed as Spark does)
     * and runs it, and conf/log4j2.properties logs warnings only, as an administrator may have set it.
     */
    private Path quietDistribution() throws IOException {
        Path dist = Files.createDirectories(tmp.resolve("dist"));
        Files.createDirectories(dist.resolve("jars"));
        Files.writeString(dist.resolve("RELEASE"), "a quiet Spark for ClusterDeployModeIT\n");
        Files.writeString(Files.createDirectories(dist.resolve("conf")).resolve("log4j2.properties"), """
                rootLogger.level = warn
                rootLogger.appenderRef.stdout.ref = console
                appender.console.type = Console
                appender.console.name = console
                appender.console.target = SYSTEM_ERR
                appender.console.layout.type = PatternLayout
                appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
                """);
        Path submit = Files.createDirectories(dist.resolve("bin")).resolve("spark-submit");
        Files.writeString(submit, """
                #!/usr/bin/env bash
                # bin/spark-submit and bin/spark-class in short: Spark's launcher prints a NUL and a newline,
                # then the command, each argument ended by a NUL
                set -e
                export SPARK_HOME="$(cd "$(dirname "$0")/.." && pwd)"
                launched="$(mktemp)"
                java -cp "$SPARK_DIST_CLASSPATH" org.apache.spark.launcher.Main org.apache.spark.deploy.SparkSubmit "$@" \
                    > "$launched"
                mapfile -d '' cmd < "$launched"
                rm -f "$launched"
                cmd=("${cmd[@]:1}")
                cmd[0]="${cmd[0]#$'\n'}"
                exec "${cmd[@]}"
                """);
        Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dist;
    }

    /** submit.sh, conf/ and the built jar in a directory of their own, the sources older than the jar. */
    private Path launchFiles() throws IOException {
        Path source = Path.of(System.getProperty("layerscope.repo", ".")).toAbsolutePath().normalize();
        Path repo = Files.createDirectories(tmp.resolve("repo"));
        for (String f : List.of("submit.sh", "conf/spark-defaults.conf", "conf/log4j2.properties",
                "conf/log4j2-standalone-client.properties",
                "scripts/build-mkl-shim.sh")) {
            Files.createDirectories(repo.resolve(f).getParent());
            Files.copy(source.resolve(f), repo.resolve(f));
        }
        Path jar = source.resolve("target/layerscope.jar");
        assertTrue(Files.exists(jar), "the application jar (mvn package) is needed: " + jar);
        Files.createDirectories(repo.resolve("target"));
        Files.createSymbolicLink(repo.resolve("target/layerscope.jar"), jar);
        Files.createDirectories(repo.resolve("src/main"));
        Files.writeString(repo.resolve("pom.xml"), "");
        FileTime older = FileTime.from(Files.getLastModifiedTime(jar).toInstant().minus(1, ChronoUnit.HOURS));
        Files.setLastModifiedTime(repo.resolve("src/main"), older);
        Files.setLastModifiedTime(repo.resolve("pom.xml"), older);
        return repo;
    }

    private record Finished(int status, String output) {
    }

    private static Finished submit(Path repo, Path cwd, String... args) throws IOException, InterruptedException {
        return submit(repo, cwd, Map.of(), args);
    }

    private static Finished submit(Path repo, Path cwd, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", repo.resolve("submit.sh").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        Stream.of("SPARK_HOME", "LAYERSCOPE_EXECUTOR_JAR", "LAYERSCOPE_CLASSPATH", "LAYERSCOPE_MAIN_CLASS")
                .forEach(pb.environment()::remove);
        pb.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":/usr/bin:/bin");
        pb.environment().put("LAYERSCOPE_CDS", "off");
        pb.environment().put("LAYERSCOPE_MKL_SHIM", "off");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "submit.sh did not finish");
        return new Finished(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
