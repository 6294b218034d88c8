package io.layerscope.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU profile's resource settings on a standalone cluster whose Worker reports one GPU, with this
 * build's libtorch (the CPU one, as a jar built without -Pcuda): Spark schedules the GPU's address to
 * the forward tasks, and the sweep stops with what to do instead of libtorch's "Could not run
 * 'aten::empty.memory_format' with arguments from the 'CUDA' backend".
 */
class GpuExecutorIT {
    @TempDir
    static Path tmp;

    @Test
    void aGpuExecutorWhoseLibtorchCannotUseCudaSaysSo() throws Exception {
        try (StandaloneCluster cluster = StandaloneCluster.startWithOneGpu(tmp.resolve("cluster"), 2)) {
            try {
                TestSessions.start(cluster.masterUrl(), Map.of(
                        "spark.executor.memory", "1g",
                        "spark.executor.extraJavaOptions", "-Dai.djl.offline=true -Djava.awt.headless=true",
                        "spark.executor.cores", "2",
                        "spark.executor.resource.gpu.amount", "1",
                        "spark.task.resource.gpu.amount", "1",
                        "spark.task.cpus", "2",
                        "spark.task.maxFailures", "1",
                        "spark.scheduler.minRegisteredResourcesRatio", "1.0",
                        "spark.scheduler.maxRegisteredResourcesWaitingTime", "180s"));
                Path out = tmp.resolve("run");
                Cli.Run r = Cli.run(ReferenceSweep.args(out));
                assertEquals(2, r.status(), r.err());
                assertTrue(Pattern.compile("error: executor \\d+ on 127\\.0\\.0\\.1 was given GPU 0 by Spark, but its"
                        + " libtorch cannot use CUDA: the application jar holds the CPU build of libtorch \\(build it with"
                        + " mvn -Pcuda -DskipTests package: docs/CLUSTER.md, GPU clusters\\), or the node's NVIDIA driver"
                        + " does not work \\(nvidia-smi there says\\)\\. To run on the executors' CPUs, leave out the GPU"
                        + " settings \\(conf/gpu/spark-gpu.conf\\)\n").matcher(r.err()).find(), r.err());
                assertFalse(java.nio.file.Files.exists(out));
                SweepResults.assertNoLeftovers(out);
            } finally {
                TestSessions.stop();
            }
        }
    }
}
