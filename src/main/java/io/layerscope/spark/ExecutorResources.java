package io.layerscope.spark;

import ai.djl.Device;
import io.layerscope.LayerscopeException;
import io.layerscope.llama.LlamaModel;
import io.layerscope.llama.NativeLibrary;
import io.layerscope.model.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import scala.Option;

/**
 * Per-executor-JVM state: the model is loaded once per (directory, dtype, device, last block) and
 * reused by every task; checkpoint headers once per directory. The device comes from Spark's
 * resource scheduling (the task's "gpu" address), never from a hard-coded index; without GPU
 * resources the task runs on the CPU with libtorch threads set to the task's cores.
 */
final class ExecutorResources {
    /** Tokens of the warm-up window: enough to run every kernel of the forward once. */
    static final int WARM_TOKENS = 16;
    private static final Map<String, CachedModel> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, Checkpoint> CHECKPOINTS = new ConcurrentHashMap<>();
    private static final Set<String> WARMED = ConcurrentHashMap.newKeySet();
    /** The library scripts/build-mkl-shim.sh builds. */
    static final String MKL_SHIM = "libmkl_intel_cpu_true.so";

    private ExecutorResources() {
    }

    /** The device Spark assigned to the running task, or in local mode the one --device chose. */
    static Device taskDevice() {
        Device local = LocalDevice.forThisTask();
        if (local != null) {
            configureThreads();   // before libtorch starts
            return local;   // the driver checked libtorch can use it
        }
        TaskContext tc = TaskContext.get();
        if (tc != null) {
            Option<ResourceInformation> gpu = tc.resources().get("gpu");
            if (gpu.isDefined() && gpu.get().addresses().length > 0) {
                configureThreads();   // before libtorch starts, which the check below makes it do
                String executor = executorName();
                return gpuDevice(gpu.get().addresses()[0], cudaAvailable(), executor == null ? "this JVM" : executor);
            }
        }
        return Device.cpu();
    }

    /**
     * GPU {@code address}, where libtorch can use CUDA; otherwise a user error naming {@code executor}:
     * a jar built without -Pcuda on GPU executors failed every task with libtorch's own words ("Could not
     * run 'aten::empty.memory_format' with arguments from the 'CUDA' backend").
     */
    static Device gpuDevice(String address, boolean cudaAvailable, String executor) {
        if (!cudaAvailable) {
            throw new LayerscopeException(executor + " was given GPU " + address.trim() + " by Spark, but its libtorch"
                    + " cannot use CUDA: the application jar holds the CPU build of libtorch (build it with mvn -Pcuda"
                    + " -DskipTests package: docs/CLUSTER.md, GPU clusters), or the node's NVIDIA driver does not work"
                    + " (nvidia-smi there says). To run on the executors' CPUs, leave out the GPU settings"
                    + " (conf/gpu/spark-gpu.conf)");
        }
        return Device.gpu(Integer.parseInt(address.trim()));
    }

    private static volatile Boolean cudaAvailable;

    /** Whether this JVM's libtorch can use CUDA (torch::cuda::is_available), asked once it has loaded. */
    static boolean cudaAvailable() {
        Boolean known = cudaAvailable;
        if (known == null) {
            // a failure to load libtorch is thrown as it is, and asked again by the next task
            known = NativeLibrary.engine().hasCapability(ai.djl.engine.StandardCapabilities.CUDA);
            cudaAvailable = known;
        }
        return known;
    }

    /**
     * How run.json's devices name this task's executor: "executor N on HOST" on a cluster, where the
     * host tells which node computed what; "executor driver" in local mode (one machine).
     */
    static String executorForRecords() {
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            return "executor ?";
        }
        String named = executorName();
        return "driver".equals(env.executorId()) || named == null ? "executor " + env.executorId() : named;
    }

    /** "executor N on HOST" in a task on an executor, else null. */
    private static String executorName() {
        SparkEnv env = SparkEnv.get();
        if (env == null || TaskContext.get() == null) {
            return null;
        }
        String host = env.blockManager() == null ? "?" : env.blockManager().blockManagerId().host();
        return "executor " + env.executorId() + " on " + host;
    }

    /**
     * What run.json's devices add for a CPU executor whose process has submit.sh's MKL shim loaded
     * ({@code src/main/c/mkl_intel_cpu_true.c}; {@code mappedFiles} as in /proc/self/maps): its
     * matrix products run other kernels, whose sums may differ in the last bits.
     */
    static String blasNote(Device device, String mappedFiles) {
        boolean shim = mappedFiles.contains("/" + MKL_SHIM);
        return shim && !device.isGpu() ? " (MKL CPU check bypassed by " + MKL_SHIM + ")" : "";
    }

    /** {@link #blasNote(Device, String)} for this process: a preloaded library is there from its start. */
    static String blasNote(Device device) {
        return blasNote(device, ProcessMaps.AT_FIRST_USE);
    }

    /** The files mapped into this process (Linux's /proc/self/maps), read once, or "" where there is none. */
    private static final class ProcessMaps {
        static final String AT_FIRST_USE = LinuxFiles.readOrEmpty("/proc/self/maps");
    }

    /**
     * libtorch reads its thread counts once, when the engine starts: set them to the task's cores
     * before the first DJL call in this JVM, so concurrent tasks do not oversubscribe the cores; and
     * its huge pages, which this machine may turn off ({@link HugePageAllocation#decideOnThisMachine}).
     */
    static void configureThreads() {
        TaskContext tc = TaskContext.get();
        configureThreads(tc == null ? Runtime.getRuntime().availableProcessors() : Math.max(1, tc.cpus()));
    }

    /** The libtorch intra-op threads this JVM's tasks start with ({@link #configureThreads}; 1 before it ran). */
    static int libtorchThreads() {
        return Math.max(1, Integer.getInteger("ai.djl.pytorch.num_threads", 1));
    }

    /** {@link #configureThreads()} with the cores of one task given (outside a task: local mode's driver). */
    static void configureThreads(int cpus) {
        CompilerDirectives.addOnceInBackground();
        // read by libtorch once, at its start, as the thread counts are
        HugePageAllocation.decideOnThisMachine();
        if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(cpus));
        }
        if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
        System.setProperty("ai.djl.offline", "true");
    }

    /**
     * The Spark setting in which the driver tells its executors the layerscope build it runs
     * ({@link RunRecords#build}); set by the driver unless given.
     */
    static final String DRIVER_BUILD = "spark.layerscope.driverBuild";
    private static volatile boolean buildChecked;

    /**
     * Refuses to work in an executor that runs another layerscope build than the driver's (a node's
     * {@code $SPARK_HOME/jars} left at an older jar): its results would be another code's, mixed into
     * this run's tables with nothing to tell. Once per JVM; nothing to check outside Spark.
     */
    static void checkBuild() {
        if (buildChecked) {
            return;
        }
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            return;   // before Spark starts (the driver's warm-up) or outside it: checked at the first task
        }
        buildMismatch(env.conf().get(DRIVER_BUILD, null), RunRecords.build(), executorName()).ifPresent(message -> {
            throw new LayerscopeException(message);
        });
        buildChecked = true;
    }

    /** The refusal when {@code executor} (null: the driver's own JVM) runs {@code mine} and the driver {@code driver}. */
    static java.util.Optional<String> buildMismatch(String driver, String mine, String executor) {
        if (driver == null || driver.equals(mine)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of((executor == null ? "this executor" : executor) + " runs layerscope " + mine
                + ", the driver layerscope " + driver + ": every executor must run the driver's jar, or its results"
                + " would be another build's. Replace the jar the executors load first (in the nodes'"
                + " $SPARK_HOME/jars, spark.executor.extraClassPath or their image) with the driver's (docs/CLUSTER.md)");
    }

    /**
     * The checkpoint's headers, read once per version of its files: a JVM that runs several jobs (local
     * mode's driver, tests) must not give a later job the offsets of a directory rewritten since.
     */
    static Checkpoint checkpoint(String dir) {
        checkBuild();
        Path where;
        try {
            where = ShippedModel.whereThisExecutorReads(dir);
        } catch (LayerscopeException e) {
            throw onThisExecutor(e);
        }
        String version = dir + "\n" + filesVersion(where);
        Checkpoint cached = CHECKPOINTS.get(version);
        if (cached != null) {
            return cached;
        }
        Checkpoint opened;
        try {
            opened = Checkpoint.open(where);
        } catch (LayerscopeException e) {
            throw onThisExecutor(e);
        }
        CHECKPOINTS.keySet().removeIf(k -> k.startsWith(dir + "\n"));   // an earlier version's
        Checkpoint raced = CHECKPOINTS.putIfAbsent(version, opened);
        return raced != null ? raced : opened;
    }

    /** What changes when a model directory's JSON or weight files are rewritten (empty where it cannot be listed). */
    static String filesVersion(Path dir) {
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            StringBuilder v = new StringBuilder();
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".json")
                    || p.getFileName().toString().endsWith(".safetensors")).sorted().toList()) {
                v.append(f.getFileName()).append('=').append(io.layerscope.FileIdentity.describe(f.toRealPath())).append(';');
            }
            return v.toString();
        } catch (java.io.IOException e) {
            return "";   // Checkpoint.open says what is wrong with the directory
        }
    }

    /**
     * The driver read the model; an executor that cannot is a cluster set-up problem (the directory is
     * not on storage every node sees), so the message says which executor and what to do.
     */
    private static LayerscopeException onThisExecutor(LayerscopeException e) {
        String executor = executorName();
        if (executor == null) {
            return e;
        }
        if (e.getMessage().startsWith("--ship-model")) {
            return new LayerscopeException(executor + ": " + e.getMessage(), e);   // shipped, and still not readable
        }
        return new LayerscopeException(executor + " cannot read the model the driver"
                + " read: " + e.getMessage() + ". On a cluster the model directory must be at the same path on every"
                + " executor (shared storage, or the same Hugging Face cache on each node), or --ship-model sends it"
                + " to the executors", e);
    }

    /**
     * The model for every pass (stage one, the warm-up, Gram passes, sequential mode's rounds): its
     * blocks streamed where the weights are widened on the host, so it loads at once and holds one
     * block's float32 per running pass ({@link LlamaModel.Residency}); sequential mode's rounds, many
     * short passes over one block, widen it again each pass: a little more work than keeping every block,
     * for far less memory (docs/PERFORMANCE.md). The task holds the lease while it uses the model.
     */
    static ModelLease model(ModelSpec spec, Device device) {
        checkBuild();
        String key = key(spec, device);
        while (true) {
            CachedModel cached = MODELS.computeIfAbsent(key, k -> {
                configureThreads();
                return new CachedModel(LlamaModel.load(checkpoint(spec.modelDir()), device, spec.dtype(), spec.lastBlock(),
                        LlamaModel.Residency.STREAMED));
            });
            synchronized (ExecutorResources.class) {
                if (!cached.released) {
                    cached.users++;
                    return new ModelLease(cached);
                }
            }
            // released between the look-up and the lease: the next look-up loads it again
        }
    }

    /**
     * Releases every model this JVM keeps, once a job needs no further forward: its weights (the largest
     * memory an executor holds) are freed for stage two, at once or, for a model a task still uses (another
     * job's, in a JVM that runs two), when that task's lease ends. A later task loads the model again.
     * Returns how many were released.
     */
    static synchronized int releaseModels() {
        int released = 0;
        for (String key : List.copyOf(MODELS.keySet())) {
            CachedModel cached = MODELS.remove(key);
            WARMED.remove(key);
            if (cached != null) {
                cached.released = true;
                if (cached.users == 0) {
                    cached.model.close();
                }
                released++;
            }
        }
        return released;
    }

    /** A cached model and the tasks using it; the fields are guarded by ExecutorResources.class. */
    private static final class CachedModel {
        final LlamaModel model;
        int users;
        boolean released;

        CachedModel(LlamaModel model) {
            this.model = model;
        }
    }

    /** A task's use of a cached model: while any lease is open, {@link #releaseModels} does not close it. */
    static final class ModelLease implements AutoCloseable {
        private final CachedModel cached;
        private boolean closed;

        private ModelLease(CachedModel cached) {
            this.cached = cached;
        }

        LlamaModel model() {
            return cached.model;
        }

        /** Ends the lease; the last lease of a released model closes it. Closing twice does nothing. */
        @Override
        public void close() {
            synchronized (ExecutorResources.class) {
                if (closed) {
                    return;
                }
                closed = true;
                if (--cached.users == 0 && cached.released) {
                    cached.model.close();
                }
            }
        }
    }

    /** Whether this JVM keeps a model now (for tests). */
    static boolean holdsModels() {
        return !MODELS.isEmpty();
    }

    /** Whether this JVM keeps a model on {@code device} (sequential mode's, between a round's passes). */
    static synchronized boolean holdsModelOn(Device device) {
        return MODELS.values().stream().anyMatch(c -> !c.released && c.model.device().equals(device));
    }

    /**
     * The model (loaded if needed), and once per model and JVM one short window (at most
     * {@link #WARM_TOKENS} of {@code seqlen}) through its first block: the first forward pays
     * libtorch's lazy set-up (thread pools, kernels) and the JIT's, which would otherwise land in
     * stage one. Short, because the window's own compute delays the task slot it runs on: a whole
     * window of a 1B model is seconds of one core, longer than everything it warms. One block, since
     * every block runs the same kernels and code: with streamed weights each further block would be
     * widened for a few tokens. Without {@code forward} only the model is loaded (and counted as
     * warmed): where stage one's tasks start while the warm-up window would still run, as in local
     * mode, the window's block arrays are a set more than the tasks need, and filling it competes
     * with them (docs/PERFORMANCE.md, "The warm-up through the first block only").
     */
    static void warmModel(ModelSpec spec, Device device, int seqlen, boolean forward) {
        try (ModelLease lease = model(spec, device)) {
            if (WARMED.add(key(spec, device)) && forward) {
                int vocab = lease.model().config().vocabSize();
                int[] window = new int[Math.min(seqlen, WARM_TOKENS)];
                for (int i = 0; i < window.length; i++) {
                    window[i] = i % vocab;
                }
                lease.model().forward(List.of(window), 1, lease.model().tapKeysOf(0));
            }
        }
    }

    private static String key(ModelSpec spec, Device device) {
        return spec.modelDir() + "|" + spec.dtype() + "|" + device + "|" + spec.lastBlock();
    }
}
