package io.layerscope.spark;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.resource.ResourceProfile;
import org.apache.spark.resource.ResourceProfileBuilder;
import org.apache.spark.resource.TaskResourceRequests;

/**
 * What one stage-two task asks of an executor, when that differs from what a forward task asks.
 * A forward wants several cores (spark.task.cpus) or a whole GPU per task, so a GPU executor runs
 * one at a time; stage two's tasks are one layer each on one core, and with those settings would also
 * run one at a time, leaving the executor's other cores idle for the whole stage. Spark's stage-level
 * scheduling lets stage two's tasks ask for one core each instead, and for the executor's GPUs shared
 * among its cores when the statistics run on the device (or the --gram products do). Sequential
 * mode's per-layer tasks ask the same ({@link GpuStatisticsPlaces} keeps their device statistics beside
 * the model one at a time unless told otherwise), and the stages in plain Java one core and no GPU
 * ({@link #javaTasks}).
 *
 * <p>Spark honours a task-only profile on standalone, YARN and Kubernetes clusters with dynamic
 * allocation off; in local mode, or with dynamic allocation on, stage two keeps the job's settings.
 *
 * @param cpus cores per stage-two task (1)
 * @param gpus the share of a GPU per task (0: none; 1/cores of the executor's GPUs when it needs one)
 */
record StageTwoSlots(int cpus, double gpus) {
    private static final String GPU = "gpu";

    /** Stage two's task request under {@code conf}, when it should differ from the job's. */
    static Optional<StageTwoSlots> of(SparkConf conf, StatsDevice statsDevice, boolean gram) {
        if (LocalDevice.isLocal(conf) || conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
            return Optional.empty();
        }
        int taskCpus = conf.getInt("spark.task.cpus", 1);
        double taskGpus = conf.getDouble("spark.task.resource." + GPU + ".amount", 0);
        if (taskGpus <= 0) {
            return taskCpus > 1 ? Optional.of(new StageTwoSlots(1, 0)) : Optional.empty();
        }
        boolean needsGpu = statsDevice != StatsDevice.JAVA || gram;
        if (!needsGpu) {
            return Optional.of(new StageTwoSlots(1, 0));
        }
        if (!conf.contains("spark.executor.cores")) {
            // the executor's cores are unknown (a standalone executor takes its Worker's): no share of
            // its GPUs can be computed, so stage two keeps the job's request
            return Optional.empty();
        }
        int cores = conf.getInt("spark.executor.cores", 1);
        double executorGpus = conf.getDouble("spark.executor.resource." + GPU + ".amount", taskGpus);
        double share = executorGpus >= cores ? Math.floor(executorGpus / cores) : 1.0 / Math.ceil(cores / executorGpus);
        StageTwoSlots slots = new StageTwoSlots(1, share);
        return taskCpus == 1 && share == taskGpus ? Optional.empty() : Optional.of(slots);
    }

    /**
     * {@code tasks} asking for one core each and no GPU where the job's tasks ask for more: the stages that
     * run in plain Java (OWL's per-block statistics, the masks on outlier channels), which would otherwise
     * run one task per executor at a time on GPU executors.
     */
    static <T> JavaRDD<T> javaTasks(JavaRDD<T> tasks, SparkConf conf) {
        return withRequest(tasks, of(conf, StatsDevice.JAVA, false));
    }

    /** {@code tasks} with {@code slots}' request, or the job's where there is none. */
    static <T> JavaRDD<T> withRequest(JavaRDD<T> tasks, Optional<StageTwoSlots> slots) {
        if (slots.isEmpty()) {
            return tasks;
        }
        // a profile keeps figures of the context it was first used in: one per application
        String application = tasks.context().applicationId();
        return tasks.withResources(PROFILES.computeIfAbsent(application + " " + slots.get(), k -> slots.get().profile()));
    }

    /**
     * One profile per request and application: Spark registers each profile it is given anew (sequential
     * mode asks once a round). Only tests run more than one application in a JVM.
     */
    private static final Map<String, ResourceProfile> PROFILES = new ConcurrentHashMap<>();

    /** As a Spark profile of task requests only: the executors stay the job's. */
    ResourceProfile profile() {
        TaskResourceRequests tasks = new TaskResourceRequests().cpus(cpus);
        if (gpus > 0) {
            tasks.resource(GPU, gpus);
        }
        return new ResourceProfileBuilder().require(tasks).build();
    }

    /** For the log: what a stage-two task asks for. */
    String describe() {
        return cpus + " core" + (cpus == 1 ? "" : "s") + (gpus > 0 ? " and " + gpus + " of a GPU" : "") + " per task";
    }
}
