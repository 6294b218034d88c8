package io.layerscope.spark;

import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

/**
 * The tests' {@link SweepHook}: faults switched on through {@value #CONF}, a comma-separated list of
 * {@code calibration-task} (the first attempt of calibration partition 0 fails), {@code layer-task}
 * (the first attempt of layer partition 0 fails), {@code layer-heap} and {@code sequential-heap} (the
 * first attempt of that partition 0 runs out of Java heap), {@code after-calibration} (the driver
 * fails after stage one), {@code driver-heap} (the driver runs out of Java heap after stage one) and
 * {@code driver-heap-elsewhere} (as that, in another of the driver's threads).
 * Set both settings ({@link #conf}) in the Spark conf, or as local properties of the submitting
 * thread ({@code sc.setLocalProperty}), which tasks inherit; Spark retries failed tasks, and the
 * results must not change.
 */
public final class FaultInjection implements SweepHook {
    public static final String CONF = "spark.layerscope.test.fault";

    /** The Spark settings that install this hook with {@code faults} switched on. */
    public static Map<String, String> conf(String faults) {
        return Map.of(SweepHook.CONF, FaultInjection.class.getName(), CONF, faults);
    }

    @Override
    public void taskStarts(String stage) {
        if (switchedOnInThisTask(stage + "-task")) {
            throw new IllegalStateException("injected fault: " + stage + "-task (test only)");
        }
        if (switchedOnInThisTask(stage + "-heap")) {
            // what the JVM throws when an allocation does not fit the heap
            throw new OutOfMemoryError("Java heap space");
        }
    }

    @Override
    public void calibrationDone(SparkContext sc) {
        if (listed(sc.getLocalProperty(CONF), "after-calibration") || listed(sc.getConf().get(CONF, ""), "after-calibration")) {
            throw new IllegalStateException("injected fault: after-calibration (test only)");
        }
        if (listed(sc.getLocalProperty(CONF), "driver-heap") || listed(sc.getConf().get(CONF, ""), "driver-heap")) {
            throw new OutOfMemoryError("Java heap space");
        }
        if (listed(sc.getLocalProperty(CONF), "driver-heap-elsewhere") || listed(sc.getConf().get(CONF, ""),
                "driver-heap-elsewhere")) {
            // as another thread of the driver's (a results writer) hands its failure back
            throw new java.util.concurrent.CompletionException(new OutOfMemoryError("Java heap space"));
        }
    }

    /** In a task: whether {@code fault} is switched on and this is the first attempt of partition 0. */
    private static boolean switchedOnInThisTask(String fault) {
        TaskContext tc = TaskContext.get();
        if (tc == null || tc.partitionId() != 0 || tc.attemptNumber() != 0) {
            return false;
        }
        SparkEnv env = SparkEnv.get();
        return listed(tc.getLocalProperty(CONF), fault) || (env != null && listed(env.conf().get(CONF, ""), fault));
    }

    private static boolean listed(String list, String fault) {
        if (list == null) {
            return false;
        }
        for (String f : list.split(",")) {
            if (f.trim().equals(fault)) {
                return true;
            }
        }
        return false;
    }
}
