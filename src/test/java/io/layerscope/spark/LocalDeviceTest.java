package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.layerscope.LayerscopeException;
import io.layerscope.llama.NativeLibrary;
import java.util.List;
import org.junit.jupiter.api.Test;

/** --device: local mode's tasks on a device of this machine, refused where it cannot hold. */
class LocalDeviceTest {
    @Test
    void parsesCpuCudaCudaNAndSeveralGpus() {
        assertEquals(List.of(Device.cpu()), LocalDevice.parse("cpu"));
        assertEquals(List.of(Device.gpu(0)), LocalDevice.parse("cuda"));
        assertEquals(List.of(Device.gpu(0)), LocalDevice.parse(" CUDA:0 "));
        assertEquals(List.of(Device.gpu(3)), LocalDevice.parse("cuda:3"));
        assertEquals(List.of(Device.gpu(2), Device.gpu(0)), LocalDevice.parse("cuda:2,0"));
        assertEquals("cuda:3", LocalDevice.name(List.of(Device.gpu(3))));
        assertEquals("cuda:2,0", LocalDevice.name(List.of(Device.gpu(2), Device.gpu(0))));
        assertEquals("cpu", LocalDevice.name(List.of(Device.cpu())));
        for (String bad : List.of("gpu", "cuda:", "cuda:-1", "cuda:x", "cuda0", "mps", "", "cuda:0,", "cpu,cuda:0",
                "cuda:0;1")) {
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> LocalDevice.parse(bad));
            assertEquals("--device " + bad + " is not a device; use --device cpu, --device cuda (GPU 0), --device cuda:N"
                    + " or --device cuda:0,1 (several GPUs)", e.getMessage());
        }
        LayerscopeException twice = assertThrows(LayerscopeException.class, () -> LocalDevice.parse("cuda:1,0,1"));
        assertEquals("--device cuda:1,0,1 names cuda:1 twice; name each GPU once, e.g. --device cuda:0,1",
                twice.getMessage());
    }

    @Test
    void isRefusedUnderAClusterMaster() {
        for (String master : List.of("spark://head:7077", "yarn", "k8s://https://api:6443", "local-cluster[2,1,1024]")) {
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> LocalDevice.check("cpu", master));
            assertEquals("--device cpu is for local mode (no --master, or --master local[N]), whose tasks run on this"
                    + " machine; with --master " + master + " Spark decides where the executors' tasks run: drop --device"
                    + " (for their GPUs, use the GPU profile: --properties-file conf/gpu/spark-gpu.conf, docs/CLUSTER.md)",
                    e.getMessage());
        }
        assertEquals(List.of(Device.cpu()), LocalDevice.check("cpu", "local[2]"));
        assertEquals(List.of(Device.cpu()), LocalDevice.check("cpu", "local"));
        assertNull(LocalDevice.check(null, "yarn"));
    }

    @Test
    void aGpuLibtorchCannotUseIsRefused() {
        LayerscopeException none = assertThrows(LayerscopeException.class,
                () -> LocalDevice.checkGpus("cuda", List.of(Device.gpu(0)), false, 0));
        assertEquals("--device cuda: this machine's libtorch cannot use CUDA: the jar holds the CPU build of libtorch"
                + " (build it with mvn -Pcuda -DskipTests package, or -Pcuda,cluster for the jar submit.sh runs through a"
                + " Spark distribution: docs/CLUSTER.md, GPU clusters), or the NVIDIA driver does not work (nvidia-smi"
                + " says). Without --device the job runs on the CPUs", none.getMessage());
        LayerscopeException one = assertThrows(LayerscopeException.class,
                () -> LocalDevice.checkGpus("cuda:1", List.of(Device.gpu(1)), true, 1));
        assertEquals("--device cuda:1: libtorch sees 1 GPU on this machine (cuda:0; CUDA_VISIBLE_DEVICES narrows them),"
                + " so there is no cuda:1", one.getMessage());
        LayerscopeException two = assertThrows(LayerscopeException.class,
                () -> LocalDevice.checkGpus("CUDA:0,2", List.of(Device.gpu(0), Device.gpu(2)), true, 2));
        assertEquals("--device CUDA:0,2: libtorch sees 2 GPUs on this machine (cuda:0 to cuda:1; CUDA_VISIBLE_DEVICES"
                + " narrows them), so there is no cuda:2", two.getMessage());
        LocalDevice.checkGpus("cuda:1,0", List.of(Device.gpu(1), Device.gpu(0)), true, 2);
        // no count from the CUDA runtime (DJL could not load it) while libtorch has CUDA: left to libtorch
        LocalDevice.checkGpus("cuda:1", List.of(Device.gpu(1)), true, 0);
    }

    /** This machine's libtorch is the CPU build: asked for real, it says so. */
    @Test
    void theCpuBuildOfLibtorchRefusesCuda() {
        org.junit.jupiter.api.Assumptions.assumeFalse(
                NativeLibrary.engine().hasCapability(ai.djl.engine.StandardCapabilities.CUDA), "libtorch here has CUDA");
        LayerscopeException e = assertThrows(LayerscopeException.class, () -> LocalDevice.check("cuda", "local[*]"));
        assertTrue(e.getMessage().startsWith("--device cuda: this machine's libtorch cannot use CUDA: "), e.getMessage());
    }

    /** Stage one's and --gram's shards without --shards: Spark's parallelism, one on local mode's GPU. */
    @Test
    void oneShardOnTheLocalGpu() {
        assertEquals(8, LocalDevice.defaultShards(8));
        try (LocalDevice.Scope s = LocalDevice.use(List.of(Device.gpu(0)))) {
            assertEquals(1, LocalDevice.defaultShards(8));
        }
        try (LocalDevice.Scope s = LocalDevice.use(List.of(Device.gpu(1), Device.gpu(0)))) {
            assertEquals(2, LocalDevice.defaultShards(8));
            assertEquals(1, LocalDevice.defaultShards(1));   // local[1]: a second model would only wait its turn
        }
        try (LocalDevice.Scope s = LocalDevice.use(List.of(Device.cpu()))) {
            assertEquals(8, LocalDevice.defaultShards(8));
        }
    }

    /** Tasks in this JVM take the chosen device, whatever Spark gave them, until the scope closes. */
    @Test
    void tasksRunOnTheChosenDeviceWhileTheScopeIsOpen() {
        assertEquals(Device.cpu(), ExecutorResources.taskDevice());
        try (LocalDevice.Scope s = LocalDevice.use(List.of(Device.gpu(1)))) {
            assertEquals(Device.gpu(1), ExecutorResources.taskDevice());
            assertEquals(Device.gpu(1), LocalDevice.orCpu());
            assertTrue(StatsDevice.AUTO.onDevice(ExecutorResources.taskDevice()));
        }
        assertNull(LocalDevice.current());
        assertEquals(Device.cpu(), LocalDevice.orCpu());
        assertEquals(Device.cpu(), ExecutorResources.taskDevice());
    }

    /** With several GPUs, a task of a local-mode job takes the one its partition's index picks. */
    @Test
    void tasksOfALocalJobSpreadOverSeveralGpusByPartition() {
        var jsc = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(
                SparkSessions.getOrCreate("test").sparkContext());
        try (LocalDevice.Scope s = LocalDevice.use(List.of(Device.gpu(2), Device.gpu(0)))) {
            List<String> devices = jsc.parallelize(List.of(0, 1, 2, 3, 4), 5)
                    .map(i -> ExecutorResources.taskDevice().toString()).collect();
            assertEquals(List.of("gpu(2)", "gpu(0)", "gpu(2)", "gpu(0)", "gpu(2)"), devices);
        }
        assertEquals(List.of("cpu()", "cpu()"), jsc.parallelize(List.of(0, 1), 2)
                .map(i -> ExecutorResources.taskDevice().toString()).collect());
    }

    /** Two jobs at once in one JVM share its tasks: the same device twice, or none, but not two devices. */
    @Test
    void jobsAtOnceInOneJvmShareTheirDevice() {
        List<Device> gpu0 = List.of(Device.gpu(0));
        try (LocalDevice.Scope a = LocalDevice.use(gpu0)) {
            try (LocalDevice.Scope b = LocalDevice.use(gpu0); LocalDevice.Scope none = LocalDevice.use(null)) {
                assertEquals(gpu0, LocalDevice.current());
            }
            assertEquals(gpu0, LocalDevice.current());
            LayerscopeException e = assertThrows(LayerscopeException.class,
                    () -> LocalDevice.use(List.of(Device.gpu(0), Device.gpu(1))));
            assertEquals("--device cuda:0,1: another job in this JVM runs local mode's tasks on cuda:0; run this one after"
                    + " it, or in its own process", e.getMessage());
            assertEquals(gpu0, LocalDevice.current());
            LocalDevice.Scope c = LocalDevice.use(gpu0);
            c.close();
            c.close();   // a second close must not end the outer job's scope
            assertEquals(gpu0, LocalDevice.current());
        }
        assertNull(LocalDevice.current());
    }
}
