package io.layerscope.spark;

import ai.djl.Device;
import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import org.apache.spark.SparkConf;

/**
 * libtorch's transparent huge pages for its CPU arrays of 2 MB or more, which it reads from the
 * environment ({@value #ENV}=1) once, when it starts. With long windows the forward's activations are
 * tens of MB each, mapped afresh by every operation, and faulting them in 4 KB pages took as long as
 * the arithmetic on a virtual machine; with short ones glibc reuses its memory, and the advice cost
 * a little instead (docs/PERFORMANCE.md). So it is on where a forward takes at least {@link #MIN_TOKENS} tokens,
 * and with --gram, but off on a machine whose memory balloon reports free pages ({@link FreePageReporting}):
 * submit.sh decides for the JVM it starts (local mode), by the same rule, and the driver for the
 * executors a job starts, whose own machines decide the last part: an executor on such a machine
 * turns the setting off before libtorch starts ({@link #decideOnThisMachine}). The user's own setting
 * wins everywhere.
 */
public final class HugePageAllocation {
    static final String ENV = "THP_MEM_ALLOC_ENABLE";
    /** Set beside {@value #ENV} when the driver chose it by the job's rule, so an executor may turn it off. */
    static final String BY_RULE_ENV = "LAYERSCOPE_HUGE_PAGES_BY_RULE";
    /** {@value #ENV} as libtorch reads it in this process, once {@link #decideOnThisMachine} has run. */
    private static volatile String effective = System.getenv(ENV);
    /** Whether {@link #decideOnThisMachine} has run in this process. */
    private static boolean decided;
    /**
     * Tokens per forward (window length times batch) from which the advice pays; submit.sh holds the
     * same figure (SubmitScriptTest checks the two rules agree).
     */
    public static final int MIN_TOKENS = 1024;

    private HugePageAllocation() {
    }

    /**
     * The value for {@value #ENV} in a JVM on this machine whose forwards take {@code seqlen * batchSize}
     * tokens: the rule submit.sh applies to the JVM it starts (SubmitScriptTest checks the two agree).
     * The executors a job starts get {@link #executorSetting} instead.
     */
    public static String setting(int seqlen, int batchSize) {
        return setting(seqlen, batchSize, false);
    }

    /**
     * As {@link #setting(int, int)}, and on with {@code gram} whatever the windows: each sequence's
     * Gram product is an in x in array mapped afresh (256 MiB at 8192 inputs), whose 4 KB page faults
     * took longer than the product itself on a virtual machine (docs/PERFORMANCE.md). Off whatever
     * the job where this machine's memory balloon reports free pages ({@link FreePageReporting}).
     */
    public static String setting(int seqlen, int batchSize, boolean gram) {
        return setting(seqlen, batchSize, gram, FreePageReporting.here());
    }

    /** As {@link #setting(int, int, boolean)} on a machine that reports free pages or not. */
    public static String setting(int seqlen, int batchSize, boolean gram, boolean reportsFreePages) {
        return !reportsFreePages && (gram || (long) seqlen * batchSize >= MIN_TOKENS) ? "1" : "0";
    }

    /**
     * {@link #setting(int, int, boolean)} for the executors a job starts, without this machine's part:
     * each executor's own machine decides that ({@link #decideOnThisMachine}).
     */
    public static String executorSetting(int seqlen, int batchSize, boolean gram) {
        return setting(seqlen, batchSize, gram, false);
    }

    /**
     * Sets {@value #ENV} for the executors a job starts to {@code setting}, and marks it as the rule's,
     * unless {@code conf} has a setting of the user's.
     */
    static void setExecutorEnv(SparkConf conf, String setting) {
        if (!conf.contains("spark.executorEnv." + ENV)) {
            conf.set("spark.executorEnv." + ENV, setting);
            conf.set("spark.executorEnv." + BY_RULE_ENV, "1");
        }
    }

    /**
     * Before libtorch starts in this process: where the driver turned the huge pages on by the job's
     * rule ({@value #BY_RULE_ENV}) and this machine's balloon reports free pages, turns them off in
     * the process environment libtorch will read (Java's own view of it is fixed at the start).
     * Nothing otherwise: the user's setting, submit.sh's decision for local mode.
     */
    public static synchronized void decideOnThisMachine() {
        // once per process: a later setenv could race libtorch's own threads reading the environment
        if (decided) {
            return;
        }
        decided = true;
        if (turnsOff(System.getenv(BY_RULE_ENV), System.getenv(ENV), FreePageReporting::here)) {
            LibC.setenv(ENV, "0");
            effective = "0";
        }
    }

    /**
     * Whether {@link #decideOnThisMachine()} turns the huge pages off, given {@value #BY_RULE_ENV} and
     * {@value #ENV} (null when unset); the machine's balloon is looked at only when it matters.
     */
    static boolean turnsOff(String byRule, String setting, java.util.function.BooleanSupplier reportsFreePages) {
        return "1".equals(byRule) && "1".equals(setting) && reportsFreePages.getAsBoolean();
    }

    /** libc's setenv, through JNA (DJL's dependency): the environment libtorch's getenv reads. */
    private interface LibC extends com.sun.jna.Library {
        LibC INSTANCE = com.sun.jna.Native.load("c", LibC.class);

        int setenv(String name, String value, int overwrite);

        static void setenv(String name, String value) {
            if (INSTANCE.setenv(name, value, 1) != 0) {
                throw new IllegalStateException("setenv(" + name + ") failed");
            }
        }
    }

    /**
     * What run.json's devices add for a CPU executor whose libtorch allocates in huge pages:
     * {@code allocation} is the process's {@value #ENV} (null when unset), {@code kernelSetting} the
     * kernel's /sys/kernel/mm/transparent_hugepage/enabled ("" where there is none). libtorch reads "1"
     * as on; a kernel set to never ignores the advice, so the note says so instead.
     */
    static String note(Device device, String allocation, String kernelSetting) {
        if (device.isGpu() || !"1".equals(allocation == null ? null : allocation.strip())) {
            return "";
        }
        return kernelSetting.contains("[never]") || kernelSetting.isBlank()
                ? " (" + ENV + "=1, but the kernel gives no transparent huge pages)"
                : " (libtorch's large arrays in transparent huge pages)";
    }

    /** {@link #note(Device, String, String)} for this process. */
    static String note(Device device) {
        return note(device, effective, KernelSetting.VALUE);
    }

    /**
     * What run.json's devices add for an executor whose Java heap is in transparent huge pages
     * ({@code -XX:+UseTransparentHugePages}: submit.sh's JVM unless the machine's balloon reports
     * free pages, or executors given the flag), so that runs on different machines can be told apart.
     */
    static String heapNote(boolean heapInHugePages) {
        return heapInHugePages ? " (heap in transparent huge pages)" : "";
    }

    /** {@link #heapNote(boolean)} for this JVM. */
    static String heapNote() {
        return heapNote(HeapSetting.HUGE_PAGES);
    }

    /** Whether this JVM runs with -XX:+UseTransparentHugePages (false where HotSpot's option cannot be read). */
    private static final class HeapSetting {
        static final boolean HUGE_PAGES = read();

        private static boolean read() {
            try {
                return Boolean.parseBoolean(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                        .getVMOption("UseTransparentHugePages").getValue());
            } catch (RuntimeException e) {
                return false;
            }
        }
    }

    /** The kernel's transparent huge page setting, read once, or "" where there is none. */
    private static final class KernelSetting {
        static final String VALUE = LinuxFiles.readOrEmpty("/sys/kernel/mm/transparent_hugepage/enabled");
    }
}
