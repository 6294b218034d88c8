package io.layerscope.spark;

import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

/**
 * Faults that only tests switch on, through {@code spark.layerscope.test.fault}: a comma-separated
 * list of {@code calibration-task} (the first attempt of calibration partition 0 fails),
 * {@code layer-task} (the first attempt of layer partition 0 fails) and {@code after-calibration}
 * (the driver fails after stage one). Spark retries failed tasks; the results must not change.
 */
final class FaultInjection {
    static final String CONF = "spark.layerscope.test.fault";

    private FaultInjection() {
    }

    static boolean enabled(String fault) {
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            return false;
        }
        for (String f : env.conf().get(CONF, "").split(",")) {
            if (f.trim().equals(fault)) {
                return true;
            }
        }
        return false;
    }

    /** Throws in the first attempt of partition 0 when {@code fault} is enabled. */
    static void maybeFailTask(String fault) {
        TaskContext tc = TaskContext.get();
        if (tc != null && tc.partitionId() == 0 && tc.attemptNumber() == 0 && enabled(fault)) {
            throw new IllegalStateException("injected fault: " + fault + " (test only)");
        }
    }
}
