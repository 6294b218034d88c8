package io.layerscope.spark;

import ai.djl.Device;
import io.layerscope.LayerscopeException;
import io.layerscope.llama.NativeLibrary;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import scala.Option;

/**
 * --device: the device local mode's tasks run on. Spark's local mode gives tasks no GPUs, and its
 * tasks run in the driver's JVM, so the driver's choice, held here for the job's length, is the
 * tasks' device. On a cluster Spark assigns each task its GPU ({@link ExecutorResources#taskDevice})
 * and --device is refused: the same flag meaning "this machine's GPU" there would be a lie.
 */
public final class LocalDevice {
    /**
     * Layers whose statistics run on local mode's one GPU at once: each holds up to about 2.2 GB of
     * device memory ({@link io.layerscope.llama.DeviceLayerStatistics}), and local[*] on a workstation
     * runs a task per core; a cluster's stage-level scheduling shares an executor's GPU instead.
     */
    static final int GPU_STATISTICS_AT_ONCE = 4;
    private static volatile Device current;
    /** Jobs of this JVM inside a {@link #use} scope of {@link #current}. */
    private static int users;
    private static final Semaphore GPU_STATISTICS = new Semaphore(GPU_STATISTICS_AT_ONCE, true);

    private LocalDevice() {
    }

    /** {@code value} as a device: cpu, cuda (GPU 0) or cuda:N, case-insensitive. */
    public static Device parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("cpu")) {
            return Device.cpu();
        }
        if (v.equals("cuda")) {
            return Device.gpu(0);
        }
        if (v.matches("cuda:[0-9]{1,4}")) {
            return Device.gpu(Integer.parseInt(v.substring("cuda:".length())));
        }
        throw new LayerscopeException("--device " + value + " is not a device; use --device cpu, --device cuda (GPU 0)"
                + " or --device cuda:N");
    }

    /** As the user would type it: cpu or cuda:N. */
    public static String name(Device device) {
        return device.isGpu() ? "cuda:" + device.getDeviceId() : "cpu";
    }

    /**
     * The device of {@code --device value} for a job under {@code master}, checked before anything
     * starts: refused on a cluster master, and a GPU where this JVM's libtorch cannot use it.
     *
     * @return null without --device (Spark decides, as on a cluster)
     */
    public static Device check(String value) {
        if (value == null) {
            return null;   // SparkConf's classes take a while to load: only where there is something to check
        }
        SparkConf conf = new SparkConf();
        // libtorch reads its thread counts once, as it starts, which the CUDA check makes it do
        ExecutorResources.configureThreads(conf.getInt("spark.task.cpus", 1));
        return check(value, master(conf));
    }

    /** {@link #check(String)} under {@code master}. */
    static Device check(String value, String master) {
        if (value == null) {
            return null;
        }
        Device device = parse(value);
        if (!isLocal(master)) {
            throw new LayerscopeException("--device " + value.trim() + " is for local mode (no --master, or --master"
                    + " local[N]), whose tasks run on this machine; with --master " + master + " Spark decides where"
                    + " the executors' tasks run: drop --device (for their GPUs, use the GPU profile: --properties-file"
                    + " conf/gpu/spark-gpu.conf, docs/CLUSTER.md)");
        }
        if (device.isGpu()) {
            var engine = NativeLibrary.engine();
            checkGpu(value.trim(), device, engine.hasCapability(ai.djl.engine.StandardCapabilities.CUDA),
                    engine.getGpuCount());
        }
        return device;
    }

    /**
     * A GPU libtorch can use here: CUDA available and {@code device}'s index below {@code gpus}, the GPUs
     * DJL counts through the CUDA runtime (0 where it cannot load one, when libtorch's own may still
     * work: then the index is left to libtorch).
     */
    static void checkGpu(String typed, Device device, boolean cudaAvailable, int gpus) {
        String flag = "--device " + typed;
        if (!cudaAvailable) {
            throw new LayerscopeException(flag + ": this machine's libtorch cannot use CUDA: the jar holds the CPU"
                    + " build of libtorch (build it with mvn -Pcuda -DskipTests package, or -Pcuda,cluster for the jar"
                    + " submit.sh runs through a Spark distribution: docs/CLUSTER.md, GPU clusters), or the NVIDIA driver"
                    + " does not work (nvidia-smi says). Without --device the job runs on the CPUs");
        }
        if (gpus > 0 && device.getDeviceId() >= gpus) {
            throw new LayerscopeException(flag + ": libtorch sees " + gpus + (gpus == 1 ? " GPU" : " GPUs")
                    + " on this machine (cuda:0" + (gpus > 1 ? " to cuda:" + (gpus - 1) : "") + ";"
                    + " CUDA_VISIBLE_DEVICES narrows them)");
        }
    }

    /** Local mode: no --master, local or local[...]. */
    static boolean isLocal(String master) {
        return master.equals("local") || master.startsWith("local[");
    }

    /** The master the job will run under: the running session's, else the one spark-submit set (local[*] without). */
    static String master(SparkConf conf) {
        Option<SparkSession> running = SparkSession.getDefaultSession();
        return running.isDefined() ? running.get().sparkContext().master()
                : conf.get("spark.master", SparkSessions.DEFAULT_MASTER);
    }

    /** The device this JVM's local-mode tasks run on, or null (Spark decides). */
    static Device current() {
        return current;
    }

    /**
     * The shards stage one (and each --gram pass) makes without --shards, {@code parallelism} being Spark's:
     * one on local mode's GPU, where a forward per core would only share the one device, each with its
     * own activations.
     */
    static int defaultShards(int parallelism) {
        return orCpu().isGpu() ? 1 : parallelism;
    }

    /** {@link #current()}, else the CPU. */
    static Device orCpu() {
        Device d = current;
        return d == null ? Device.cpu() : d;
    }

    /**
     * Local mode's tasks on {@code device} until the scope closes; null leaves them where they are. Jobs
     * run at once in one JVM (an application embedding layerscope, the tests) share its tasks' device,
     * so a second job asking for another device is refused.
     */
    static synchronized Scope use(Device device) {
        if (device == null) {
            return () -> { };
        }
        if (users > 0 && !current.equals(device)) {
            throw new LayerscopeException("--device " + name(device) + ": another job in this JVM runs local mode's tasks"
                    + " on " + name(current) + "; run this one after it, or in its own process");
        }
        current = device;
        users++;
        java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean(true);
        return () -> {
            synchronized (LocalDevice.class) {
                if (open.getAndSet(false) && --users == 0) {
                    current = null;
                }
            }
        };
    }

    /** {@link #use}'s end. */
    interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Runs {@code work}, which computes statistics on {@code device}, holding one of the
     * {@link #GPU_STATISTICS_AT_ONCE} places on local mode's GPU; anywhere else it just runs.
     */
    static <T> T statisticsOn(Device device, java.util.function.Supplier<T> work) {
        if (!device.isGpu() || current == null) {
            return work.get();
        }
        try {
            GPU_STATISTICS.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();   // a cancelled job: Spark interrupts its tasks
            throw new IllegalStateException("interrupted while waiting for the GPU", e);
        }
        try {
            return work.get();
        } finally {
            GPU_STATISTICS.release();
        }
    }
}
