package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.deploy.SparkSubmitArguments;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The command line submit.sh gives a Spark distribution's spark-submit. The script runs from a copy
 * of the repository's launch files (with an up-to-date jar stand-in, so it builds nothing) against a
 * SPARK_HOME whose bin/spark-submit only records its arguments; then Spark's own argument parser
 * reads such a command line, to show what --load-spark-defaults makes of the cluster's defaults.
 */
class SubmitScriptTest {
    @TempDir
    Path tmp;

    Path repo;
    Path sparkHome;

    @BeforeEach
    void launchFiles() throws IOException {
        Path source = Path.of(System.getProperty("layerscope.repo", ".")).toAbsolutePath().normalize();
        repo = Files.createDirectories(tmp.resolve("repo"));
        for (String f : List.of("submit.sh", "conf/spark-defaults.conf", "conf/log4j2.properties",
                "conf/gpu/spark-gpu.conf", "conf/gpu/discover-gpus.sh", "scripts/build-mkl-shim.sh")) {
            Files.createDirectories(repo.resolve(f).getParent());
            Files.copy(source.resolve(f), repo.resolve(f));
        }
        Files.createDirectories(repo.resolve("src/main"));
        Files.writeString(repo.resolve("pom.xml"), "");
        FileTime older = FileTime.from(Instant.now().minus(1, ChronoUnit.HOURS));
        Files.setLastModifiedTime(repo.resolve("src/main"), older);
        Files.setLastModifiedTime(repo.resolve("pom.xml"), older);
        Files.createDirectories(repo.resolve("target"));
        Files.writeString(repo.resolve("target/layerscope-cluster.jar"), "");

        sparkHome = tmp.resolve("spark");
        Path submit = Files.createDirectories(sparkHome.resolve("bin")).resolve("spark-submit");
        Files.writeString(submit, "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/../arguments\"\n");
        Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Runs submit.sh in the copy; returns the arguments spark-submit received. */
    List<String> submit(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", repo.resolve("submit.sh").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true);
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        pb.environment().put("PATH", "/usr/bin:/bin"); // no other spark-submit
        pb.environment().put("LAYERSCOPE_MKL_SHIM", "off");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        assertEquals(0, p.exitValue(), out);
        return Files.readAllLines(sparkHome.resolve("arguments"));
    }

    String driverOptions() {
        return "-Dai.djl.offline=true -Djava.awt.headless=true -Dlog4j2.configurationFile=" + repo
                + "/conf/log4j2.properties -XX:+UseParallelGC";
    }

    @Test
    void aDistributionGetsTheJarWithoutSparkAndKeepsItsOwnDefaults() throws Exception {
        List<String> received = submit("sweep", "--model", "demo", "--out", "/results/demo");
        assertEquals(List.of("--master", "local[*]", "--properties-file", repo + "/conf/spark-defaults.conf",
                "--load-spark-defaults", "--driver-java-options", driverOptions(), "--class", "io.layerscope.cli.Main",
                repo + "/target/layerscope-cluster.jar", "sweep", "--model", "demo", "--out", "/results/demo"), received);
    }

    @Test
    void theGpuProfileShipsItsDiscoveryScriptBesideTheUsersFiles() throws Exception {
        List<String> received = submit("sweep", "--model", "demo", "--out", "/results/demo", "--master", "yarn",
                "--properties-file", "conf/gpu/spark-gpu.conf", "--files", "/data/a.txt", "--conf", "spark.x=1",
                "--files=/data/b.txt");
        assertEquals(List.of("--master", "yarn", "--properties-file", "conf/gpu/spark-gpu.conf", "--load-spark-defaults",
                "--driver-java-options", driverOptions(), "--class", "io.layerscope.cli.Main", "--conf", "spark.x=1",
                "--files", "/data/a.txt,/data/b.txt," + repo + "/conf/gpu/discover-gpus.sh",
                repo + "/target/layerscope-cluster.jar", "sweep", "--model", "demo", "--out", "/results/demo"), received);
        // the executor runs it by the name it has in its working directory, where YARN puts --files
        assertEquals(List.of("discover-gpus.sh"), Files.readAllLines(repo.resolve("conf/gpu/spark-gpu.conf")).stream()
                .filter(l -> l.startsWith("spark.executor.resource.gpu.discoveryScript"))
                .map(l -> l.split("\\s+")[1]).toList());
    }

    @Test
    void sparkReadsTheClusterDefaultsUnderLayerscopesSettings() throws Exception {
        Path clusterConf = Files.createDirectories(tmp.resolve("cluster-conf"));
        Files.writeString(clusterConf.resolve("spark-defaults.conf"), """
                spark.eventLog.enabled      true
                spark.eventLog.dir          hdfs:///spark-history
                spark.yarn.queue            research
                spark.driver.memory         1g
                """);
        List<String> received = submit("sweep", "--model", "demo", "--out", "/results/demo");
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("SPARK_CONF_DIR", clusterConf.toString());
        SparkSubmitArguments parsed = new SparkSubmitArguments(CollectionConverters.asScala(received).toSeq(),
                scala.collection.immutable.Map.from(CollectionConverters.asScala(env)));
        var props = parsed.sparkProperties();
        assertEquals("true", props.apply("spark.eventLog.enabled"));
        assertEquals("hdfs:///spark-history", props.apply("spark.eventLog.dir"));
        assertEquals("research", props.apply("spark.yarn.queue"));
        // layerscope's conf/spark-defaults.conf wins where both set a key
        assertEquals("4g", props.apply("spark.driver.memory"));
        assertEquals("zstd", props.apply("spark.sql.parquet.compression.codec"));
    }
}
