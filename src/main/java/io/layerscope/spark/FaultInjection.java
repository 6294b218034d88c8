package io.layerscope.spark;

import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;

/**
 * Faults that only tests switch on, through {@code spark.layerscope.test.fault}: a comma-separated
 * list of {@code calibration-task} (the first attempt of calibration partition 0 fails),
 * {@code layer-task} (the first attempt of layer partition 0 fails) and {@code after-calibration}
 * (the driver fails after stage one). Set it in the Spark conf, or as a local property of the
 * submitting thread ({@code sc.setLocalProperty}), which tasks inherit; Spark retries failed tasks,
 * and the results must not change.
 */
final class FaultInjection {
    static final String CONF = "spark.layerscope.test.fault";

    private FaultInjection() {
    }

    /** On the driver: is {@code fault} switched on for jobs submitted from this thread? */
    static boolean enabled(SparkContext sc, String fault) {
        return listed(sc.getLocalProperty(CONF), fault) || listed(sc.getConf().get(CONF, ""), fault);
    }

    /** In a task: throws in the first attempt of partition 0 when {@code fault} is switched on. */
    static void maybeFailTask(String fault) {
        TaskContext tc = TaskContext.get();
        if (tc == null || tc.partitionId() != 0 || tc.attemptNumber() != 0) {
            return;
        }
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        boolean on = listed(tc.getLocalProperty(CONF), fault) || (env != null && listed(env.conf().get(CONF, ""), fault));
        if (on) {
            throw new IllegalStateException("injected fault: " + fault + " (test only)");
        }
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
