package io.layerscope.reliability;

import static io.layerscope.reliability.TestSparkDistribution.submit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerscope.fixtures.TestRequirements;
import io.layerscope.reliability.TestSparkDistribution.Finished;
import io.layerscope.spark.RunRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./submit.sh ... --master yarn} through a Spark distribution against a YARN cluster on this
 * machine ({@link YarnCluster}: a ResourceManager, a NodeManager, containers as real processes), in
 * client and in cluster deploy mode. The distribution's jars serve the containers too
 * ({@code spark.yarn.jars=local:...}), as a cluster whose nodes have Spark installed.
 */
class YarnClusterIT {
    private static final Pattern APPLICATION = Pattern.compile("application_\\d+_\\d+");

    @TempDir
    static Path tmp;
    private static YarnCluster yarn;
    private static Path repo;
    private static Map<String, String> env;

    @BeforeAll
    static void start() throws Exception {
        // 4 GB: the driver's container in cluster mode and one executor, each 1 GB of heap and Spark's overhead
        // and one GPU (none behind it) for the GPU profile's test
        yarn = YarnCluster.start(Files.createDirectories(tmp.resolve("yarn")), 4096, 4, 1);
        repo = TestSparkDistribution.launchFiles(tmp);
        Path dist = TestSparkDistribution.create(tmp, null);
        env = Map.of("SPARK_HOME", dist.toString(), "HADOOP_CONF_DIR", yarn.confDir().toString());
    }

    @AfterAll
    static void stop() throws Exception {
        if (yarn != null) {
            yarn.close();
        }
    }

    /** spark-submit's options for this cluster, then {@code more}. */
    private static List<String> onYarn(String deployMode, String... more) {
        List<String> args = new ArrayList<>(List.of("--master", "yarn", "--deploy-mode", deployMode,
                "--conf", "spark.yarn.jars=local:" + env.get("SPARK_HOME") + "/jars/*", "--num-executors", "1",
                "--executor-cores", "2", "--executor-memory", "1g", "--driver-memory", "1g"));
        args.addAll(List.of(more));
        return args;
    }

    private static Finished sweep(Path cwd, List<String> sweepArgs, List<String> sparkArgs) throws Exception {
        List<String> all = new ArrayList<>(sweepArgs);
        all.addAll(sparkArgs);
        return submit(repo, cwd, env, all.toArray(new String[0]));
    }

    /** The model sent with --ship-model: the executor opens its own copies, in its container's directory. */
    @Test
    void clientModeResultsEqualLocal2() throws Exception {
        Path out = tmp.resolve("client-out");
        Finished r = sweep(tmp, List.of(ReferenceSweep.args(out, "--ship-model")), onYarn("client"));
        assertEquals(0, r.status(), r.output());
        SweepResults.assertSame(ReferenceSweep.results(), SweepResults.read(out), 1e-6);
        // the windows ran in a container's executor, not in the driver
        List<String> devices = RunRecord.read(out).devices();
        assertTrue(devices.stream().allMatch(d -> d.matches("executor \\d+ on \\S+: .*")), devices.toString());
        assertTrue(r.output().contains("model: --ship-model hands 2 files ("), r.output());
        // (the only application here that ships a model); YARN may delete other applications' files mid-walk
        List<Path> opened = new ArrayList<>();
        Files.walkFileTree(tmp.resolve("yarn"), new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult preVisitDirectory(Path dir, java.nio.file.attribute.BasicFileAttributes a) {
                if (dir.getFileName().toString().startsWith("layerscope-model-")) {
                    opened.add(dir);
                    return java.nio.file.FileVisitResult.SKIP_SUBTREE;
                }
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFileFailed(Path file, java.io.IOException e) {
                return java.nio.file.FileVisitResult.CONTINUE;   // gone while walking
            }
        });
        assertEquals(1, opened.size(), opened.toString());
        assertTrue(opened.get(0).toString().contains("container_"), opened.toString());
        assertTrue(Files.isSymbolicLink(opened.get(0).resolve("model.safetensors")), opened.toString());
    }

    @Test
    void clusterModeWritesWhereToldOnceAndItsFailureIsTheScriptsStatus() throws Exception {
        Path cwd = Files.createDirectories(tmp.resolve("cwd"));
        Finished ok = sweep(cwd, List.of("sweep", "--model", "demo", "--cache-dir", "cache", "--out", "rel/out",
                "--no-png", "--nsamples", "8"), onYarn("cluster"));
        assertEquals(0, ok.status(), ok.output());
        assertTrue(ok.output().contains("final status: SUCCEEDED"), ok.output());
        assertTrue(Files.exists(cwd.resolve("rel/out/layers.parquet")), "results where --out said, relative to here");
        // one attempt: the driver ended main without an exit, which YARN would take for a failure and rerun
        assertEquals(List.of("01_000001", "01_000002"), containerSuffixes(applicationId(ok)), ok.output());

        String missing = tmp.resolve("no/such/model").toString();
        Finished failed = sweep(cwd, List.of("sweep", "--model", missing, "--out", "rel/failed"), onYarn("cluster"));
        assertEquals(1, failed.status(), failed.output());
        // YARN's diagnostics carry the end of the driver's log: layerscope's own error, then main's end
        assertTrue(failed.output().contains("error: --model " + missing + ": no such directory"), failed.output());
        String id = applicationId(failed);
        assertTrue(failed.output().contains("layerscope ended with status 2; its error is in the driver's log: yarn logs"
                + " -applicationId " + id), failed.output());
        assertEquals(List.of("01_000001"), containerSuffixes(id), "one attempt of a failed driver: " + failed.output());
        assertFalse(Files.exists(cwd.resolve("rel/failed")));
    }

    /**
     * conf/gpu/spark-gpu.conf on YARN, its executor sized for this cluster: YARN grants the container a
     * yarn.io/gpu, the discovery script (shipped with --files) finds it, Spark schedules it to the forward
     * tasks, and libtorch here, without CUDA, is told as such (status 2).
     */
    @Test
    void theGpuProfileOnYarnGivesTheExecutorAGpu() throws Exception {
        TestRequirements.libtorchWithoutCuda("stop at the CUDA check once YARN has granted the GPU");
        Path out = tmp.resolve("gpu-out");
        Finished r = sweep(tmp, List.of(ReferenceSweep.args(out)), List.of("--master", "yarn", "--deploy-mode", "client",
                "--properties-file", repo.resolve("conf/gpu/spark-gpu.conf").toString(),
                "--conf", "spark.yarn.jars=local:" + env.get("SPARK_HOME") + "/jars/*", "--num-executors", "1",
                "--executor-cores", "2", "--conf", "spark.task.cpus=2", "--executor-memory", "1g", "--driver-memory", "1g",
                "--conf", "spark.task.maxFailures=1",
                // YARN gives containers a PATH of its own: where this cluster's nvidia-smi is
                "--conf", "spark.executorEnv.PATH=" + yarn.binDir() + ":/usr/local/bin:/usr/bin:/bin"));
        assertEquals(2, r.status(), r.output());
        assertTrue(Pattern.compile("\nerror: executor \\d+ on [^ ]+ was given GPU 0 by Spark, but its libtorch cannot use"
                + " CUDA: ").matcher(r.output()).find(), r.output());
        assertFalse(Files.exists(out));
    }

    private static String applicationId(Finished f) {
        Matcher m = APPLICATION.matcher(f.output());
        assertTrue(m.find(), f.output());
        return m.group();
    }

    /** The attempt and container numbers of an application's containers (01_000001: first attempt's AM). */
    private static List<String> containerSuffixes(String applicationId) throws Exception {
        return yarn.containers(applicationId).stream()
                .map(p -> p.getFileName().toString().replaceAll("^container_\\d+_\\d+_", "")).toList();
    }
}
