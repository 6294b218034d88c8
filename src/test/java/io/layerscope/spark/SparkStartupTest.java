package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The failures a standalone master that gives up during the start can surface as, seen in real runs. */
class SparkStartupTest {

    private static boolean stopped(Throwable t) {
        return SparkStartup.stoppedWhileStarting(t, t.getMessage());
    }

    @Test
    void theThreeWaysSparkReportsItsOwnContextStoppedWhileStarting() {
        assertTrue(stopped(new IllegalStateException("Cannot call methods on a stopped SparkContext.\nThis stopped"
                + " SparkContext was created at:")));
        assertTrue(stopped(new IllegalStateException("LiveListenerBus is stopped.")));
        assertTrue(stopped(new NullPointerException("Cannot invoke \"org.apache.spark.scheduler.DAGScheduler"
                + ".metricsSource()\" because the return value of \"org.apache.spark.SparkContext._dagScheduler()\""
                + " is null")));
    }

    @Test
    void aUserMistakeKeepsSparksOwnReason() {
        assertFalse(stopped(new IllegalArgumentException("Asked to run locally with 0 threads")));
        assertFalse(stopped(new NullPointerException("Cannot invoke \"String.length()\" because \"s\" is null")));
    }
}
