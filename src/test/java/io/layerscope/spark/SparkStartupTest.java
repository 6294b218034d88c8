package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The failures a standalone master that gives up during the start can surface as, seen in real runs. */
class SparkStartupTest {

    private static boolean stopped(Throwable t) {
        return SparkStartup.stoppedWhileStarting(t, t.getMessage());
    }

    /** A cluster's session that takes a while says what Spark waits for; local mode never does. */
    @Test
    void aClustersSlowStartSaysWhatSparkWaitsFor() {
        assertEquals("spark: waiting for the executors to register on spark://head:7077 (the cores of"
                        + " --total-executor-cores, or the executors asked for; at most"
                        + " spark.scheduler.maxRegisteredResourcesWaitingTime, 30s, after which the job starts on those"
                        + " registered)",
                SparkStartup.waitingLine(new org.apache.spark.SparkConf(false).set("spark.master", "spark://head:7077"))
                        .orElseThrow());
        assertEquals(java.util.Optional.of("spark: waiting for the executors to register on yarn (the cores of"
                        + " --total-executor-cores, or the executors asked for; at most"
                        + " spark.scheduler.maxRegisteredResourcesWaitingTime, 180s, after which the job starts on those"
                        + " registered)"),
                SparkStartup.waitingLine(new org.apache.spark.SparkConf(false).set("spark.master", "yarn")
                        .set("spark.scheduler.maxRegisteredResourcesWaitingTime", "180s")));
        assertEquals(java.util.Optional.empty(),
                SparkStartup.waitingLine(new org.apache.spark.SparkConf(false).set("spark.master", "local[2]")));
        assertEquals(java.util.Optional.empty(), SparkStartup.waitingLine(new org.apache.spark.SparkConf(false)), "no --master");
        assertTrue(SparkStartup.waitingLine(new org.apache.spark.SparkConf(false).set("spark.master", "local-cluster[2,1,1024]"))
                .orElseThrow().startsWith("spark: waiting for the executors to register on local-cluster[2,1,1024]"));
    }

    @Test
    void theThreeWaysSparkReportsItsOwnContextStoppedWhileStarting() {
        assertTrue(stopped(new IllegalStateException("Cannot call methods on a stopped SparkContext.\nThis stopped"
                + " SparkContext was created at:")));
        assertTrue(stopped(new IllegalStateException("LiveListenerBus is stopped.")));
        // YARN's client mode, once the ApplicationMaster gave up on executors that failed at their start
        assertTrue(stopped(new IllegalStateException("Spark context stopped while waiting for backend")));
        assertTrue(stopped(new NullPointerException("Cannot invoke \"org.apache.spark.scheduler.DAGScheduler"
                + ".metricsSource()\" because the return value of \"org.apache.spark.SparkContext._dagScheduler()\""
                + " is null")));
    }

    @Test
    void aUserMistakeKeepsSparksOwnReason() {
        assertFalse(stopped(new IllegalArgumentException("Asked to run locally with 0 threads")));
        assertFalse(stopped(new NullPointerException("Cannot invoke \"String.length()\" because \"s\" is null")));
    }

    @Test
    void aStopAfterExecutorsWereKilledForTheirMemorySaysSo() {
        IllegalStateException stopped = new IllegalStateException("LiveListenerBus is stopped.");
        assertEquals("Spark did not start with --master yarn (Spark stopped its context while starting); check"
                + " --master and the --conf settings", SparkStartup.startFailure(stopped, "yarn").getMessage());
        try {
            Setbacks.record("Container killed by YARN for exceeding physical memory limits. 1.1 GB of 1 GB"
                    + " physical memory used. Consider boosting spark.executor.memoryOverhead.");
            String told = SparkStartup.startFailure(stopped, "yarn").getMessage();
            assertTrue(told.startsWith("Spark stopped after losing executors (memory kills: 1): YARN killed"
                    + " executors for exceeding their containers' physical memory (1.1 GB of 1 GB physical memory used):"
                    + " libtorch's memory lies outside the Java heap"), told);
            // a bad setting is still told as one, whatever was lost before
            assertEquals("Spark did not start with --master yarn (Asked to run locally with 0 threads); check --master"
                    + " and the --conf settings", SparkStartup.startFailure(
                            new IllegalArgumentException("Asked to run locally with 0 threads"), "yarn").getMessage());
        } finally {
            Setbacks.clear();
        }
    }
}
