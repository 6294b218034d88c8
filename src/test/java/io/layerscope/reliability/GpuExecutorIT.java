package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;
import io.layerscope.fixtures.TestRequirements;
import io.layerscope.spark.SweepHook;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU profile's resource settings on a standalone cluster whose Worker reports one GPU, with a
 * libtorch that cannot use CUDA (as a jar built without -Pcuda): Spark schedules the GPU's address to
 * the forward tasks, and the sweep stops with what to do instead of libtorch's "Could not run
 * 'aten::empty.memory_format' with arguments from the 'CUDA' backend".
 */
class GpuExecutorIT {
    @TempDir
    static Path tmp;

    private static StandaloneCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        TestRequirements.libtorchWithoutCuda("stop at the CUDA check once Spark has scheduled the GPU");
        cluster = StandaloneCluster.startWithOneGpu(tmp.resolve("cluster"), 2);
    }

    @AfterAll
    static void stop() {
        TestSessions.stop();
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A session on the cluster: executors of 2 cores and its GPU, and {@code more} on top. */
    private static void session(Map<String, String> more) {
        Map<String, String> conf = new java.util.HashMap<>(Map.of(
                "spark.executor.memory", "1g",
                "spark.executor.extraJavaOptions", "-Dai.djl.offline=true -Djava.awt.headless=true",
                "spark.executor.cores", "2",
                "spark.executor.resource.gpu.amount", "1",
                // as the GPU profile names it; on a standalone cluster the Worker hands the executor its GPU and
                // the executor runs no script (there is none in its directory: it would fail at its start)
                "spark.executor.resource.gpu.discoveryScript", "./discover-gpus.sh",
                "spark.task.maxFailures", "1",
                "spark.scheduler.minRegisteredResourcesRatio", "1.0",
                "spark.scheduler.maxRegisteredResourcesWaitingTime", "180s"));
        conf.putAll(more);
        TestSessions.start(cluster.masterUrl(), conf);
    }

    /** The GPU profile's task request: a whole GPU and all the executor's cores per forward task. */
    private static final Map<String, String> GPU_TASKS = Map.of("spark.task.resource.gpu.amount", "1", "spark.task.cpus", "2");

    @Test
    void aGpuExecutorWhoseLibtorchCannotUseCudaSaysSo() throws Exception {
        session(GPU_TASKS);
        Path out = tmp.resolve("run");
        Cli.Run r = Cli.run(ReferenceSweep.args(out));
        assertEquals(2, r.status(), r.err());
        assertTrue(CUDA_UNUSABLE.matcher(r.err()).find(), r.err());
        assertFalse(java.nio.file.Files.exists(out));
        SweepResults.assertNoLeftovers(out);
    }

    private static final Pattern CUDA_UNUSABLE = Pattern.compile("error: executor \\d+ on 127\\.0\\.0\\.1 was given GPU 0 by Spark, but its"
                        + " libtorch cannot use CUDA: the application jar holds the CPU build of libtorch \\(build it with"
                        + " mvn -Pcuda -DskipTests package: docs/CLUSTER.md, GPU clusters\\), or the node's NVIDIA driver"
                        + " does not work \\(nvidia-smi there says\\)\\. To run on the executors' CPUs, leave out the GPU"
                        + " settings \\(conf/gpu/spark-gpu.conf\\)\n");

    /**
     * Stage two's own request on GPU executors, 1 core and 1/cores of the GPU per task (StageTwoSlots), as
     * Spark's scheduler grants it. Stage one comes from --calibration-cache, recorded by a sweep whose
     * tasks asked for no GPU; stage two's tasks then start with their grant (recorded by the hook) and
     * stop where the statistics would go to the device.
     */
    @Test
    void stageTwoTasksGetOneCoreAndTheirShareOfTheGpu() throws Exception {
        Path cache = tmp.resolve("calibration-cache");
        session(Map.of());
        Cli.Run recorded = Cli.run(ReferenceSweep.args(tmp.resolve("cpu-run"), "--dtype", "float32",
                "--calibration-cache", cache.toString()));
        assertEquals(0, recorded.status(), recorded.err());
        // --stats-device is in the cache's key (stage one's depth reductions follow it)
        Cli.Run recordedJava = Cli.run(ReferenceSweep.args(tmp.resolve("cpu-run-java"), "--dtype", "float32",
                "--calibration-cache", cache.toString(), "--stats-device", "java"));
        assertEquals(0, recordedJava.status(), recordedJava.err());

        Path grants = tmp.resolve("grants.txt");
        Map<String, String> conf = new java.util.HashMap<>(GPU_TASKS);
        conf.put(SweepHook.CONF, TaskResources.class.getName());
        conf.put(TaskResources.CONF, grants.toString());
        session(conf);
        Cli.Run r = Cli.run(ReferenceSweep.args(tmp.resolve("gpu-run"), "--dtype", "float32",
                "--calibration-cache", cache.toString()));
        assertEquals(2, r.status(), r.err());
        assertTrue(CUDA_UNUSABLE.matcher(r.err()).find(), r.err());
        // no forward task ran (stage one came from the cache), and each stage-two task had its grant
        List<String> tasks = java.nio.file.Files.readAllLines(grants);
        assertTrue(tasks.stream().noneMatch(t -> t.startsWith("calibration ")), tasks.toString());
        List<String> layerTasks = tasks.stream().filter(t -> t.startsWith("layer ")).distinct().toList();
        assertEquals(List.of("layer cpus=1 gpu=[0]"), layerTasks, tasks.toString());
        // OWL's per-block statistics run in Java: a core each, no GPU (they took the forward's request before)
        assertEquals(List.of("blocks cpus=1 gpu=none"), tasks.stream().filter(t -> t.startsWith("blocks ")).distinct().toList(),
                tasks.toString());

        // with the statistics on the executors' CPUs the tasks ask for no GPU, and the sweep is the CPU one's
        // a file of its own: tasks of the failed job may still start and record theirs
        grants = tmp.resolve("grants-java-stats.txt");
        org.apache.spark.sql.SparkSession.active().sparkContext().setLocalProperty(TaskResources.CONF, grants.toString());
        Path javaStats = tmp.resolve("java-stats-run");
        Cli.Run ok = Cli.run(ReferenceSweep.args(javaStats, "--dtype", "float32", "--calibration-cache", cache.toString(),
                "--stats-device", "java"));
        tasks = java.nio.file.Files.readAllLines(grants);
        assertEquals(0, ok.status(), ok.err() + tasks);
        assertEquals(List.of("layer cpus=1 gpu=none"), tasks.stream().filter(t -> t.startsWith("layer ")).distinct().toList(),
                tasks.toString());
        SweepResults.assertSame(SweepResults.read(tmp.resolve("cpu-run-java")), SweepResults.read(javaStats), 0);

        // an N:M run's masks on the outlier channels are a small Spark job after stage two: in Java, a core, no GPU
        grants = tmp.resolve("grants-n-of-m.txt");
        org.apache.spark.sql.SparkSession.active().sparkContext().setLocalProperty(TaskResources.CONF, grants.toString());
        Cli.Run nOfM = Cli.run(ReferenceSweep.args(tmp.resolve("n-of-m-run"), "--dtype", "float32", "--calibration-cache",
                cache.toString(), "--stats-device", "java", "--prune-n", "2", "--prune-m", "4"));
        tasks = java.nio.file.Files.readAllLines(grants);
        assertEquals(0, nOfM.status(), nOfM.err() + tasks);
        assertEquals(List.of("channels cpus=1 gpu=none"), tasks.stream().filter(t -> t.startsWith("channels ")).distinct()
                .toList(), tasks.toString());
    }
}
