package io.layerscope.spark;

import ai.djl.Device;
import io.layerscope.LayerscopeException;
import io.layerscope.llama.NativeLibrary;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.SparkSession;
import scala.Option;

/**
 * --device: the devices local mode's tasks run on. Spark's local mode gives tasks no GPUs, and its
 * tasks run in the driver's JVM, so the driver's choice, held here for the job's length, is the
 * tasks' device: with several GPUs, each task takes the one its partition's index picks, so stage
 * one's shards (one per GPU) and stage two's layers spread over them. On a cluster Spark assigns each
 * task its GPU ({@link ExecutorResources#taskDevice}) and --device is refused: the same flag meaning
 * "this machine's GPUs" there would be a lie.
 */
public final class LocalDevice {
    private static volatile List<Device> current;
    /** Jobs of this JVM inside a {@link #use} scope of {@link #current}. */
    private static int users;

    private LocalDevice() {
    }

    /** {@code value} as devices: cpu, cuda (GPU 0), cuda:N or cuda:N,M,... (several GPUs), case-insensitive. */
    public static List<Device> parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("cpu")) {
            return List.of(Device.cpu());
        }
        if (v.equals("cuda")) {
            return List.of(Device.gpu(0));
        }
        if (v.matches("cuda:[0-9]{1,4}(,[0-9]{1,4})*")) {
            List<Device> gpus = new ArrayList<>();
            for (String id : v.substring("cuda:".length()).split(",")) {
                Device gpu = Device.gpu(Integer.parseInt(id));
                if (gpus.contains(gpu)) {
                    throw new LayerscopeException("--device " + value.trim() + " names cuda:" + gpu.getDeviceId()
                            + " twice; name each GPU once, e.g. --device cuda:0,1");
                }
                gpus.add(gpu);
            }
            return List.copyOf(gpus);
        }
        throw new LayerscopeException("--device " + value + " is not a device; use --device cpu, --device cuda (GPU 0),"
                + " --device cuda:N or --device cuda:0,1 (several GPUs)");
    }

    /** As the user would type it: cpu, cuda:N or cuda:N,M. */
    public static String name(List<Device> devices) {
        if (!devices.get(0).isGpu()) {
            return "cpu";
        }
        return "cuda:" + String.join(",", devices.stream().map(d -> Integer.toString(d.getDeviceId())).toList());
    }

    /**
     * The devices of {@code --device value} for a job, checked before anything starts: refused on a
     * cluster master, and GPUs this JVM's libtorch cannot use.
     *
     * @return null without --device (Spark decides, as on a cluster)
     */
    public static List<Device> check(String value) {
        if (value == null) {
            return null;   // SparkConf's classes take a while to load: only where there is something to check
        }
        SparkConf conf = new SparkConf();
        // libtorch reads its thread counts once, as it starts, which the CUDA check makes it do
        ExecutorResources.configureThreads(conf.getInt("spark.task.cpus", 1));
        return check(value, master(conf));
    }

    /** {@link #check(String)} under {@code master}. */
    static List<Device> check(String value, String master) {
        if (value == null) {
            return null;
        }
        List<Device> devices = parse(value);
        if (!isLocal(master)) {
            throw new LayerscopeException("--device " + value.trim() + " is for local mode (no --master, or --master"
                    + " local[N]), whose tasks run on this machine; with --master " + master + " Spark decides where"
                    + " the executors' tasks run: drop --device (for their GPUs, use the GPU profile: --properties-file"
                    + " conf/gpu/spark-gpu.conf, docs/CLUSTER.md)");
        }
        if (devices.get(0).isGpu()) {
            checkGpus(value.trim(), devices, ExecutorResources.cudaAvailable(), NativeLibrary.engine().getGpuCount());
        }
        return devices;
    }

    /**
     * GPUs libtorch can use here: CUDA available and each index below {@code gpus}, the GPUs DJL
     * counts through the CUDA runtime (0 where it cannot load one, when libtorch's own may still work:
     * then the indices are left to libtorch).
     */
    static void checkGpus(String typed, List<Device> devices, boolean cudaAvailable, int gpus) {
        String flag = "--device " + typed;
        if (!cudaAvailable) {
            throw new LayerscopeException(flag + ": this machine's libtorch cannot use CUDA: the jar holds the CPU"
                    + " build of libtorch (build it with mvn -Pcuda -DskipTests package, or -Pcuda,cluster for the jar"
                    + " submit.sh runs through a Spark distribution: docs/CLUSTER.md, GPU clusters), or the NVIDIA driver"
                    + " does not work (nvidia-smi says). Without --device the job runs on the CPUs");
        }
        for (Device d : devices) {
            if (gpus > 0 && d.getDeviceId() >= gpus) {
                throw new LayerscopeException(flag + ": libtorch sees " + gpus + (gpus == 1 ? " GPU" : " GPUs")
                        + " on this machine (cuda:0" + (gpus > 1 ? " to cuda:" + (gpus - 1) : "") + ";"
                        + " CUDA_VISIBLE_DEVICES narrows them), so there is no cuda:" + d.getDeviceId());
            }
        }
    }

    /** Local mode (no --master, local or local[...]) under {@code conf}: local-cluster[...] has executors of its own. */
    static boolean isLocal(SparkConf conf) {
        return isLocal(conf.get("spark.master", SparkSessions.DEFAULT_MASTER));
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

    /** The devices this JVM's local-mode tasks run on, or null (Spark decides). */
    static List<Device> current() {
        return current;
    }

    /**
     * The device of the running task (in a task, the one its partition's index picks; outside one, the
     * first), or null where --device chose none.
     */
    static Device forThisTask() {
        List<Device> devices = current;
        if (devices == null) {
            return null;
        }
        TaskContext tc = TaskContext.get();
        return devices.get(tc == null ? 0 : Math.floorMod(tc.partitionId(), devices.size()));
    }

    /**
     * The shards stage one (and each --gram pass) makes without --shards, {@code parallelism} being Spark's:
     * one per GPU of local mode's (no more than run at once), where a forward per core would only share a
     * device, each with its own activations.
     */
    static int defaultShards(int parallelism) {
        List<Device> devices = current;
        return devices != null && devices.get(0).isGpu() ? Math.min(devices.size(), Math.max(1, parallelism)) : parallelism;
    }

    /** The first of {@link #current()}, else the CPU. */
    static Device orCpu() {
        List<Device> devices = current;
        return devices == null ? Device.cpu() : devices.get(0);
    }

    /**
     * Local mode's tasks on {@code devices} until the scope closes; null leaves them where they are.
     * Jobs run at once in one JVM (an application embedding layerscope, the tests) share its tasks'
     * devices, so a second job asking for others is refused.
     */
    static synchronized Scope use(List<Device> devices) {
        if (devices == null) {
            return () -> { };
        }
        if (users > 0 && !current.equals(devices)) {
            throw new LayerscopeException("--device " + name(devices) + ": another job in this JVM runs local mode's"
                    + " tasks on " + name(current) + "; run this one after it, or in its own process");
        }
        current = List.copyOf(devices);
        users++;
        AtomicBoolean open = new AtomicBoolean(true);
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
}
