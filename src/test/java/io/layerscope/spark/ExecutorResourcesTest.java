package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.layerscope.llama.ComputeDtype;
import io.layerscope.llama.LlamaModel;
import io.layerscope.model.DemoModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecutorResourcesTest {
    /** A JVM that runs several jobs reads a model directory's headers once per version of its files. */
    @Test
    void aModelDirectoryRewrittenBetweenJobsIsReadAgain(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("model");
        java.nio.file.Files.createDirectories(dir);
        Path demo = DemoModel.ensure(tmp.resolve("cache"));
        try (var files = java.nio.file.Files.list(demo)) {
            for (Path f : files.toList()) {
                java.nio.file.Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        io.layerscope.model.Checkpoint first = ExecutorResources.checkpoint(dir.toString());
        assertSame(first, ExecutorResources.checkpoint(dir.toString()), "unchanged: read once");
        Path config = dir.resolve("config.json");
        String json = java.nio.file.Files.readString(config);
        java.nio.file.Files.delete(config);   // a new file (inode), as a download or save_pretrained makes it
        java.nio.file.Files.writeString(config, json.replaceFirst("\"rms_norm_eps\"\\s*:\\s*[0-9.eE+-]+", "\"rms_norm_eps\": 0.001"));
        io.layerscope.model.Checkpoint second = ExecutorResources.checkpoint(dir.toString());
        assertNotSame(first, second);
        assertEquals(0.001, second.config().rmsNormEps());
    }
    @Test
    void devicesNameTheMklShimOnlyForCpuExecutorsThatLoadedIt() {
        String maps = "7f3c5a1e2000-7f3c5a1e3000 r-xp 00001000 08:01 1234  /opt/other.so\n"
                + "7f3c5a1f0000-7f3c5a1f1000 r-xp 00001000 08:01 5678  /repo/target/native/libmkl_intel_cpu_true.so\n";
        assertEquals(" (MKL CPU check bypassed by libmkl_intel_cpu_true.so)",
                ExecutorResources.blasNote(Device.cpu(), maps));
        assertEquals("", ExecutorResources.blasNote(Device.gpu(0), maps));
        assertEquals("", ExecutorResources.blasNote(Device.cpu(), ""));
        assertEquals("", ExecutorResources.blasNote(Device.cpu(), "7f3c5a1e2000-7f3c5a1e3000 r-xp 00001000 08:01 1234  /opt/other.so\n"));
    }

    @Test
    void aGpuAddressWhereLibtorchCannotUseCudaIsAUserError() {
        assertEquals(Device.gpu(3), ExecutorResources.gpuDevice(" 3", true, "executor 1 on node-2"));
        io.layerscope.LayerscopeException e = assertThrows(io.layerscope.LayerscopeException.class,
                () -> ExecutorResources.gpuDevice("0", false, "executor 1 on node-2"));
        assertEquals("executor 1 on node-2 was given GPU 0 by Spark, but its libtorch cannot use CUDA: the application"
                + " jar holds the CPU build of libtorch (build it with mvn -Pcuda -DskipTests package: docs/CLUSTER.md,"
                + " GPU clusters), or the node's NVIDIA driver does not work (nvidia-smi there says). To run on the"
                + " executors' CPUs, leave out the GPU settings (conf/gpu/spark-gpu.conf)", e.getMessage());
    }

    /** Released models are closed (their weights freed), and the next task that needs one loads it again. */
    @Test
    void releasingClosesTheCachedModelAndALaterTaskLoadsItAgain(@TempDir Path tmp) {
        ExecutorResources.releaseModels();
        ModelSpec spec = new ModelSpec(DemoModel.ensure(tmp).toString(), ComputeDtype.FLOAT32, 0, List.of(), 1);
        LlamaModel first;
        try (ExecutorResources.ModelLease lease = ExecutorResources.model(spec, Device.cpu())) {
            first = lease.model();
        }
        assertTrue(ExecutorResources.holdsModels());
        assertEquals(1, ExecutorResources.releaseModels());
        assertFalse(ExecutorResources.holdsModels());
        assertThrows(RuntimeException.class, () -> first.forward(List.of(new int[] {1, 2, 3})));
        assertEquals(0, ExecutorResources.releaseModels());
        try (ExecutorResources.ModelLease again = ExecutorResources.model(spec, Device.cpu())) {
            assertNotSame(first, again.model());
            assertEquals(3, again.model().forward(List.of(new int[] {1, 2, 3})).ntokens());
        }
        assertEquals(1, ExecutorResources.releaseModels());
    }

    /** The demo model's four blocks and final norm, none of it cached yet. */
    private static ModelSpec wholeDemoModel(Path tmp) {
        ExecutorResources.releaseModels();
        return new ModelSpec(DemoModel.ensure(tmp).toString(), ComputeDtype.FLOAT32, 3,
                List.of("3/MLP_ACT", "final/FINAL_NORM"), 1);
    }

    /** The warm-up runs one short window through the first block only, once per model and JVM. */
    @Test
    void theWarmUpRunsTheFirstBlockOnceAndNothingMore(@TempDir Path tmp) {
        ModelSpec spec = wholeDemoModel(tmp);
        ExecutorResources.warmModel(spec, Device.cpu(), 256, true);
        ExecutorResources.warmModel(spec, Device.cpu(), 256, true);
        try (ExecutorResources.ModelLease lease = ExecutorResources.model(spec, Device.cpu())) {
            assertEquals(1, lease.model().blocksRun(), "one window through block 0 of 4, and no second warm-up");
            assertEquals(List.of("0/ATTN_IN", "0/ATTN_OUT", "0/MLP_IN", "0/MLP_ACT"), lease.model().tapKeysOf(0));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lease.model().tapKeysOf(4));
            assertEquals("block 4 is not loaded (blocks 0..3)", e.getMessage());
        }
        assertEquals(1, ExecutorResources.releaseModels());
    }

    /** Without a warm-up window the model is only loaded, and counts as warmed: a later warm-up runs none either. */
    @Test
    void aWarmUpWithoutItsWindowLoadsTheModelOnly(@TempDir Path tmp) {
        ModelSpec spec = wholeDemoModel(tmp);
        ExecutorResources.warmModel(spec, Device.cpu(), 256, false);
        assertTrue(ExecutorResources.holdsModels());
        ExecutorResources.warmModel(spec, Device.cpu(), 256, true);
        try (ExecutorResources.ModelLease lease = ExecutorResources.model(spec, Device.cpu())) {
            assertEquals(0, lease.model().blocksRun());
        }
        assertEquals(1, ExecutorResources.releaseModels());
    }

    /**
     * A JVM that runs two jobs (two sweeps in one Spark application) releases the models when one job's
     * stage two starts, while the other's stage one may still be in a forward: the model that task holds
     * stays usable until its lease ends, and only then is closed; a task starting meanwhile loads its own.
     */
    @Test
    void aModelInUseIsClosedWhenItsLastLeaseEndsNotWhenReleased(@TempDir Path tmp) {
        ExecutorResources.releaseModels();
        ModelSpec spec = new ModelSpec(DemoModel.ensure(tmp).toString(), ComputeDtype.FLOAT32, 0, List.of(), 1);
        ExecutorResources.ModelLease running = ExecutorResources.model(spec, Device.cpu());
        LlamaModel held = running.model();
        assertEquals(1, ExecutorResources.releaseModels());
        assertFalse(ExecutorResources.holdsModels());
        assertEquals(3, held.forward(List.of(new int[] {1, 2, 3})).ntokens());
        try (ExecutorResources.ModelLease other = ExecutorResources.model(spec, Device.cpu())) {
            assertNotSame(held, other.model());
            assertEquals(3, held.forward(List.of(new int[] {1, 2, 3})).ntokens());
        }
        running.close();
        assertThrows(RuntimeException.class, () -> held.forward(List.of(new int[] {1, 2, 3})));
        running.close();   // a second close does nothing
        assertEquals(1, ExecutorResources.releaseModels());   // the one the other task loaded
        assertEquals(0, ExecutorResources.releaseModels());
    }

    @Test
    void anExecutorOfAnotherBuildIsTold() {
        assertEquals(java.util.Optional.empty(), ExecutorResources.buildMismatch("0.1 built T1", "0.1 built T1", "executor 1 on n1"));
        assertEquals(java.util.Optional.empty(), ExecutorResources.buildMismatch(null, "0.1 built T1", "executor 1 on n1"));
        assertEquals("executor 3 on node-7 runs layerscope 0.1 built T0, the driver layerscope 0.1 built T1: every executor"
                + " must run the driver's jar, or its results would be another build's. Replace the jar the executors"
                + " load first (in the nodes' $SPARK_HOME/jars, spark.executor.extraClassPath or their image) with the"
                + " driver's (docs/CLUSTER.md)",
                ExecutorResources.buildMismatch("0.1 built T1", "0.1 built T0", "executor 3 on node-7").orElseThrow());
    }
}
