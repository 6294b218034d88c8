package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.layerscope.LayerscopeException;
import io.layerscope.llama.NativeLibrary;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** --device: local mode's tasks on a device of this machine, refused where it cannot hold. */
class LocalDeviceTest {
    @Test
    void parsesCpuCudaAndCudaN() {
        assertEquals(Device.cpu(), LocalDevice.parse("cpu"));
        assertEquals(Device.gpu(0), LocalDevice.parse("cuda"));
        assertEquals(Device.gpu(0), LocalDevice.parse(" CUDA:0 "));
        assertEquals(Device.gpu(3), LocalDevice.parse("cuda:3"));
        assertEquals("cuda:3", LocalDevice.name(Device.gpu(3)));
        assertEquals("cpu", LocalDevice.name(Device.cpu()));
        for (String bad : List.of("gpu", "cuda:", "cuda:-1", "cuda:x", "cuda0", "mps", "")) {
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> LocalDevice.parse(bad));
            assertEquals("--device " + bad + " is not a device; use --device cpu, --device cuda (GPU 0) or --device"
                    + " cuda:N", e.getMessage());
        }
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
        assertEquals(Device.cpu(), LocalDevice.check("cpu", "local[2]"));
        assertEquals(Device.cpu(), LocalDevice.check("cpu", "local"));
        assertNull(LocalDevice.check(null, "yarn"));
    }

    @Test
    void aGpuLibtorchCannotUseIsRefused() {
        LayerscopeException none = assertThrows(LayerscopeException.class,
                () -> LocalDevice.checkGpu("cuda", Device.gpu(0), false, 0));
        assertEquals("--device cuda: this machine's libtorch cannot use CUDA: the jar holds the CPU build of libtorch"
                + " (build it with mvn -Pcuda -DskipTests package, or -Pcuda,cluster for the jar submit.sh runs through a"
                + " Spark distribution: docs/CLUSTER.md, GPU clusters), or the NVIDIA driver does not work (nvidia-smi"
                + " says). Without --device the job runs on the CPUs", none.getMessage());
        LayerscopeException one = assertThrows(LayerscopeException.class,
                () -> LocalDevice.checkGpu("cuda:1", Device.gpu(1), true, 1));
        assertEquals("--device cuda:1: libtorch sees 1 GPU on this machine (cuda:0; CUDA_VISIBLE_DEVICES narrows them)",
                one.getMessage());
        LayerscopeException two = assertThrows(LayerscopeException.class,
                () -> LocalDevice.checkGpu("CUDA:2", Device.gpu(2), true, 2));
        assertEquals("--device CUDA:2: libtorch sees 2 GPUs on this machine (cuda:0 to cuda:1; CUDA_VISIBLE_DEVICES"
                + " narrows them)", two.getMessage());
        LocalDevice.checkGpu("cuda:1", Device.gpu(1), true, 2);
        // no count from the CUDA runtime (DJL could not load it) while libtorch has CUDA: left to libtorch
        LocalDevice.checkGpu("cuda:1", Device.gpu(1), true, 0);
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
        try (LocalDevice.Scope s = LocalDevice.use(Device.gpu(0))) {
            assertEquals(1, LocalDevice.defaultShards(8));
        }
        try (LocalDevice.Scope s = LocalDevice.use(Device.cpu())) {
            assertEquals(8, LocalDevice.defaultShards(8));
        }
    }

    /** Tasks in this JVM take the chosen device, whatever Spark gave them, until the scope closes. */
    @Test
    void tasksRunOnTheChosenDeviceWhileTheScopeIsOpen() {
        assertEquals(Device.cpu(), ExecutorResources.taskDevice());
        try (LocalDevice.Scope s = LocalDevice.use(Device.gpu(1))) {
            assertEquals(Device.gpu(1), ExecutorResources.taskDevice());
            assertEquals(Device.gpu(1), LocalDevice.orCpu());
            assertTrue(StatsDevice.AUTO.onDevice(ExecutorResources.taskDevice()));
        }
        assertNull(LocalDevice.current());
        assertEquals(Device.cpu(), LocalDevice.orCpu());
        assertEquals(Device.cpu(), ExecutorResources.taskDevice());
    }

    /** Two jobs at once in one JVM share its tasks: the same device twice, or none, but not two devices. */
    @Test
    void jobsAtOnceInOneJvmShareTheirDevice() {
        try (LocalDevice.Scope a = LocalDevice.use(Device.gpu(0))) {
            try (LocalDevice.Scope b = LocalDevice.use(Device.gpu(0)); LocalDevice.Scope none = LocalDevice.use(null)) {
                assertEquals(Device.gpu(0), LocalDevice.current());
            }
            assertEquals(Device.gpu(0), LocalDevice.current());
            LayerscopeException e = assertThrows(LayerscopeException.class, () -> LocalDevice.use(Device.cpu()));
            assertEquals("--device cpu: another job in this JVM runs local mode's tasks on cuda:0; run this one after it,"
                    + " or in its own process", e.getMessage());
            assertEquals(Device.gpu(0), LocalDevice.current());
            LocalDevice.Scope c = LocalDevice.use(Device.gpu(0));
            c.close();
            c.close();   // a second close must not end the outer job's scope
            assertEquals(Device.gpu(0), LocalDevice.current());
        }
        assertNull(LocalDevice.current());
    }

    /** Local mode's GPU holds at most GPU_STATISTICS_AT_ONCE layers' statistics; the CPU and a cluster's GPUs any number. */
    @Test
    void statisticsOnTheLocalGpuWaitForAPlace() throws Exception {
        assertEquals(4, LocalDevice.GPU_STATISTICS_AT_ONCE);
        try (LocalDevice.Scope s = LocalDevice.use(Device.gpu(0))) {
            assertEquals(4, mostAtOnce(Device.gpu(0), 7));
            assertEquals(7, mostAtOnce(Device.cpu(), 7));
        }
        assertEquals(7, mostAtOnce(Device.gpu(0), 7));
    }

    /** The most of {@code tasks} concurrent statisticsOn calls that ran at once, each holding its place a while. */
    private static int mostAtOnce(Device device, int tasks) throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        CountDownLatch started = new CountDownLatch(Math.min(tasks, device.isGpu() && LocalDevice.current() != null
                ? LocalDevice.GPU_STATISTICS_AT_ONCE : tasks));
        ExecutorService pool = Executors.newFixedThreadPool(tasks);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int i = 0; i < tasks; i++) {
                done.add(pool.submit(() -> LocalDevice.statisticsOn(device, () -> {
                    most.accumulateAndGet(running.incrementAndGet(), Math::max);
                    started.countDown();
                    try {
                        // holds its place until as many as may run at once have started, and a little longer
                        started.await(10, TimeUnit.SECONDS);
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    running.decrementAndGet();
                    return 1;
                })));
            }
            for (Future<Integer> f : done) {
                assertEquals(1, f.get(30, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        return most.get();
    }
}
